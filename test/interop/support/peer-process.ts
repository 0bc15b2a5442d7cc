/**
 * Spawns and drives one `y-webrtc-peer.ts` child process: event-driven waits on the
 * IPC messages it sends, and a kill that never leaves an orphan behind.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');
const script = resolve(import.meta.dirname, 'y-webrtc-peer.ts');

/** A message the peer process sent over IPC. */
export type PeerEvent =
  | { event: 'ready' }
  | { event: 'text'; value: string }
  | { event: 'peers'; webrtcPeers: string[] }
  | { event: 'error'; message: string };

/** One y-webrtc provider in its own process. */
export interface YWebrtcPeerProcess {
  readonly name: string;
  /** Every event received so far, oldest first. */
  readonly events: PeerEvent[];
  /** The last `text` value seen ('' before any). */
  text(): string;
  /** Resolves with the first event (past or future) that matches, or rejects on timeout/exit. */
  waitFor(match: (e: PeerEvent) => boolean, what: string, timeoutMs?: number): Promise<PeerEvent>;
  insert(index: number, text: string): void;
  /** Ask it to exit; SIGKILL if it has not after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Its events, y-webrtc log and stderr (tails), for failure messages. */
  diagnostics(): string;
}

/** Start a y-webrtc peer for `room` against `signalingUrl` (with y-webrtc's `password` when given). */
export function startYWebrtcPeer(name: string, signalingUrl: string, room: string, password?: string): YWebrtcPeerProcess {
  const child: ChildProcess = fork(script, [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    // LOG=y-webrtc turns on y-webrtc's own log lines (lib0/logging); kept for failure messages.
    env: { ...process.env, SIGNALING_URL: signalingUrl, ROOM: room, NAME: name, PASSWORD: password ?? '', LOG: 'y-webrtc' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const events: PeerEvent[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  let out = '';
  let exited: string | null = null;
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  const diagnostics = (): string =>
    `\n-- ${name} events: ${JSON.stringify(events).slice(-1500)}\n-- ${name} y-webrtc log:\n${out}\n-- ${name} stderr:\n${err}`;
  child.on('message', (m: PeerEvent) => {
    events.push(m);
    for (const w of [...waiters]) w();
  });
  child.on('exit', (code, signal) => {
    exited = `exited (${code ?? signal})`;
    for (const w of [...waiters]) w();
  });

  const waitFor: YWebrtcPeerProcess['waitFor'] = (match, what, timeoutMs = 30_000) =>
    new Promise((resolveWait, reject) => {
      const check = (): void => {
        const hit = events.find(match);
        const failed = events.find((e) => e.event === 'error');
        if (hit) done(() => resolveWait(hit));
        else if (failed && failed.event === 'error') done(() => reject(new Error(`${name} failed: ${failed.message}`)));
        else if (exited) done(() => reject(new Error(`${name} ${exited} while waiting for ${what}${diagnostics()}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`${name}: timed out after ${timeoutMs} ms waiting for ${what}${diagnostics()}`))),
        timeoutMs,
      );
      const done = (fn: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        fn();
      };
      waiters.add(check);
      check();
    });

  return {
    name,
    events,
    text: () => {
      for (let i = events.length - 1; i >= 0; i--) {
        const e = events[i]!;
        if (e.event === 'text') return e.value;
      }
      return '';
    },
    waitFor,
    insert: (index, text) => child.send({ cmd: 'insert', index, text }),
    diagnostics,
    stop: (graceMs = 3000) =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        if (child.connected) child.send({ cmd: 'exit' });
        else child.kill('SIGTERM');
      }),
  };
}
