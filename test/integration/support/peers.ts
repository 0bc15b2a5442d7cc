/**
 * Parent side of `peer-process.ts`: fork mesh peers as separate Node processes, keep
 * every event they report, and wait on them event-driven. `killAll()` always ends them.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from '../../support/net.js';

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

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((done) => {
      this.child.once('exit', () => done());
      this.child.kill(signal);
    });
  }
}

/** Fork `n` peer processes and wait until each is ready. */
export async function spawnPeers(n: number): Promise<PeerProcess[]> {
  const script = resolve(import.meta.dirname, '../peer-process.ts');
  const peers = Array.from({ length: n }, () => new PeerProcess(fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })));
  await waitFor(() => peers.every((p) => p.of('ready').length > 0), `${n} peer processes ready`, 60_000, 50);
  return peers;
}

export async function killAll(peers: PeerProcess[]): Promise<void> {
  await Promise.all(peers.map((p) => p.kill()));
}
