/**
 * Parent side of `peer-process.ts`: fork mesh peers as separate Node processes, each on
 * a given Node WebRTC engine, keep every event they report, and wait on them
 * event-driven. `killAll()` always ends them.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from '../../support/net.js';
import type { NodeWebRtcEngine } from '../../support/node-webrtc.js';

/** How long a peer process asked to `exit` may take to end on its own before it calls itself hung. */
export const EXIT_WATCHDOG_MS = 15_000;
/** Exit code of a peer process still alive EXIT_WATCHDOG_MS after `exit`. */
export const HUNG_EXIT_CODE = 3;

export type PeerEvent = { ev: string; [k: string]: unknown };

export class PeerProcess {
  readonly events: PeerEvent[] = [];
  selfId = '';

  constructor(readonly child: ChildProcess) {
    child.on('message', (m) => {
      const e = m as PeerEvent;
      if (e.ev === 'joined') this.selfId = String(e.selfId);
      this.events.push(e);
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(cmd: Record<string, unknown>): void {
    if (this.alive && this.child.connected) this.child.send(cmd);
  }

  /** Events of kind `ev`. */
  of(ev: string): PeerEvent[] {
    return this.events.filter((e) => e.ev === ev);
  }

  /** Peers with an open connection right now, from the joined/left events reported. */
  connectedPeers(): Set<string> {
    const s = new Set<string>();
    for (const e of this.events) {
      if (e.ev === 'peer-joined') s.add(String(e.id));
      if (e.ev === 'peer-left') s.delete(String(e.id));
    }
    return s;
  }

  lastStatus(): string | undefined {
    return this.of('status').at(-1)?.status as string | undefined;
  }

  async join(relay: string, room: string, password?: string): Promise<void> {
    this.send({ cmd: 'join', relay, room, password });
    await waitFor(() => this.of('joined').length > 0 || this.of('join-failed').length > 0, 'join reply', 30_000);
  }

  /**
   * Ask it to leave the room and end on its own (no `process.exit`); resolves with its
   * exit code (or signal) and how long it took.
   */
  exitOnItsOwn(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const started = Date.now();
    return new Promise((done) => {
      if (!this.alive) return done({ code: this.child.exitCode, signal: this.child.signalCode, ms: 0 });
      this.child.once('exit', (code, signal) => done({ code, signal, ms: Date.now() - started }));
      this.send({ cmd: 'exit' });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((done) => {
      this.child.once('exit', () => done());
      this.child.kill(signal);
    });
  }
}

/**
 * Fork `n` peer processes and wait until each is ready. `engine` is the Node WebRTC each
 * runs on (default wrtc), or a function of the peer's index for a mixed room; each
 * process confirms the engine it loaded.
 */
export async function spawnPeers(n: number, engine: NodeWebRtcEngine | ((index: number) => NodeWebRtcEngine) = 'wrtc'): Promise<PeerProcess[]> {
  const script = resolve(import.meta.dirname, '../peer-process.ts');
  const engineOf = typeof engine === 'function' ? engine : () => engine;
  const peers = Array.from(
    { length: n },
    (_, i) =>
      new PeerProcess(
        fork(script, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, WEBRTC: engineOf(i) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
      ),
  );
  try {
    await waitFor(() => peers.every((p) => p.of('ready').length > 0 || !p.alive), `${n} peer processes ready`, 60_000, 50);
    peers.forEach((p, i) => {
      const ready = p.of('ready')[0];
      if (!ready) throw new Error(`peer process ${i} exited before it was ready (${p.child.exitCode ?? p.child.signalCode})`);
      if (ready.engine !== engineOf(i)) throw new Error(`peer process ${i} runs on ${String(ready.engine)}, not ${engineOf(i)}`);
    });
  } catch (err) {
    await killAll(peers); // none left behind when the caller never gets them
    throw err;
  }
  return peers;
}

export async function killAll(peers: PeerProcess[]): Promise<void> {
  await Promise.all(peers.map((p) => p.kill()));
}
