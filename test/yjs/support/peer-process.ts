/**
 * Drives one `peer-main.ts` child process (a Yjs peer over real WebRTC): commands over
 * IPC, event-driven waits on what it reports, and a stop that never leaves an orphan.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');
const script = resolve(import.meta.dirname, 'peer-main.ts');

/** Something the peer process reported. */
export type PeerEvent = { event: string; [key: string]: unknown };

export interface PeerProcess {
  readonly name: string;
  readonly events: PeerEvent[];
  send(command: object): void;
  /** Resolves with the first event at index >= `from` that matches; rejects on timeout, exit or an `error` event. */
  waitFor(match: (e: PeerEvent) => boolean, what: string, timeoutMs?: number, from?: number): Promise<PeerEvent>;
  /** Send `command` and wait for the next event named `reply`. */
  request(command: object, reply: string, timeoutMs?: number): Promise<PeerEvent>;
  stop(graceMs?: number): Promise<void>;
}

/** Start a peer process: `mode` meshparty or y-webrtc, against `relay`, in `room`. */
export function startPeerProcess(name: string, env: { MODE: 'meshparty' | 'y-webrtc'; RELAY: string; ROOM: string; DOC?: string }): PeerProcess {
  const child: ChildProcess = fork(script, [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const events: PeerEvent[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let exited: string | undefined;
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  child.stdout?.resume();
  child.on('message', (m: PeerEvent) => {
    events.push(m);
    for (const w of [...waiters]) w();
  });
  child.on('exit', (code, signal) => {
    exited = `exited (${code ?? signal})`;
    for (const w of [...waiters]) w();
  });

  const waitFor: PeerProcess['waitFor'] = (match, what, timeoutMs = 60_000, from = 0) =>
    new Promise((resolveWait, reject) => {
      const check = () => {
        const rest = events.slice(from);
        const hit = rest.find(match);
        const failed = rest.find((e) => e.event === 'error');
        if (hit) finish(() => resolveWait(hit));
        else if (failed) finish(() => reject(new Error(`${name} failed: ${String(failed.message)}`)));
        else if (exited) finish(() => reject(new Error(`${name} ${exited} while waiting for ${what}\n${stderr}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${name}: timed out after ${timeoutMs} ms waiting for ${what}\n${stderr}`))), timeoutMs);
      const finish = (fn: () => void) => {
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
    send: (command) => child.connected && child.send(command),
    waitFor,
    request(command, reply, timeoutMs) {
      const from = events.length;
      child.send(command);
      return waitFor((e) => e.event === reply, reply, timeoutMs, from);
    },
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
