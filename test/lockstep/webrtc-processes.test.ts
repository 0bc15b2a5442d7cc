import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignalingServer } from '../../signaling/index.js';
import { waitFor } from '../support/net.js';

type Relay = Awaited<ReturnType<typeof createSignalingServer>>;
interface Done {
  hashes: Array<[number, number]>;
  stats: { frame: number; stalls: number; inputDelay: number };
  elapsedMs: number;
}

const PEER = resolve(import.meta.dirname, 'support/lockstep-peer.ts');

describe('lockstep over real WebRTC between processes', () => {
  let relay: Relay;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: () => {} });
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await relay?.close();
  });

  it('4 peers in separate processes play 30 s at 60 Hz with equal hashes', async () => {
    const ids = ['n1', 'n2', 'n3', 'n4'];
    const frames = 30 * 60;
    const done = new Map<string, Done>();
    const desyncs: number[] = [];
    const errors: string[] = [];
    for (const id of ids) {
      const child = fork(PEER, [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, RELAY: relay.address.url, ROOM: 'lockstep-4', ID: id, PLAYERS: ids.join(','), FRAMES: String(frames) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('message', (m: { event: string } & Partial<Done> & { frame?: number; message?: string }) => {
        if (m.event === 'done') done.set(id, m as unknown as Done);
        if (m.event === 'desync') desyncs.push(m.frame!);
        if (m.event === 'error') errors.push(`${id}: ${m.message}`);
      });
      children.push(child);
    }
    await waitFor(() => done.size === ids.length || errors.length > 0, 'every peer to play 1800 frames', 150_000, 200);
    expect(errors).toEqual([]);
    expect(desyncs).toEqual([]);

    const maps = ids.map((id) => new Map(done.get(id)!.hashes));
    let common = 0;
    for (const [frame, hash] of maps[0]!) {
      if (frame > frames) continue;
      for (const m of maps) expect([frame, m.get(frame)]).toEqual([frame, hash]);
      common++;
    }
    expect(common).toBe(frames / 10 + 1); // every 10th frame from 0 to 1800
    // The fixed tick held: 1800 frames took at least 30 s (minus a little start-up skew).
    for (const id of ids) expect(done.get(id)!.elapsedMs).toBeGreaterThan(29_000);
    console.log('lockstep 4 processes:', ids.map((id) => `${id} ${Math.round(done.get(id)!.elapsedMs)} ms, ${done.get(id)!.stats.stalls} stalls, delay ${done.get(id)!.stats.inputDelay}`).join('; '));
    for (const c of children) c.send({ cmd: 'exit' });
    // A process killed by a signal has exitCode null and signalCode set: wait for either.
    await waitFor(() => children.every((c) => c.exitCode !== null || c.signalCode !== null), 'peers to exit', 20_000);
    expect(children.map((c) => `${c.exitCode ?? c.signalCode}`)).toEqual(ids.map(() => '0'));
  }, 200_000);
});
