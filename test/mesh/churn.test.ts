import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import type { Room } from '../../src/mesh/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { createRng } from '../../src/util/rng.js';

/**
 * Seeded churn: peers join, leave, vanish, links fail on one or both sides, the network
 * partitions and heals, the relay goes down and comes back. Once the turbulence stops,
 * every live peer must be connected to every other live peer exactly once, and a
 * numbered stream sent afterwards must arrive complete and in order.
 */
async function churn(seed: number): Promise<void> {
  const rng = createRng(seed);
  const clock = new ManualClock();
  const net = createMemoryNetwork({ seed, clock, latencyMs: 3, jitterMs: 10, mesh: { logger: silentLogger() } });
  const live = new Map<string, Room>();
  let next = 0;
  const join = () => {
    const id = `p${String(next++).padStart(2, '0')}`;
    live.set(id, net.join('r', { peerId: id }));
  };
  for (let i = 0; i < 4; i++) join();
  let partitioned = false;
  let relayDown = false;
  for (let step = 0; step < 40; step++) {
    const ids = [...live.keys()];
    const pick = () => ids[rng.int(ids.length)]!;
    const roll = rng.int(100);
    if (roll < 20 && live.size < 7) join();
    else if (roll < 30 && live.size > 2) {
      const id = pick();
      await live.get(id)!.leave();
      live.delete(id);
    } else if (roll < 38 && live.size > 2) {
      const id = pick();
      net.disconnect(id); // vanishes for good; its mesh is shut down quietly later
      const room = live.get(id)!;
      live.delete(id);
      clock.setTimeout(() => void room.leave(), 50);
    } else if (roll < 60 && ids.length >= 2) {
      const a = pick();
      const b = pick();
      if (a !== b) net.wire.fail(a, b, rng.chance(0.5) ? undefined : rng.chance(0.5) ? a : b);
    } else if (roll < 70) {
      if (partitioned) net.heal();
      else net.partition([ids.filter(() => rng.chance(0.5))]);
      partitioned = !partitioned;
    } else if (roll < 78) {
      relayDown = !relayDown;
      net.setRelayUp(!relayDown);
    }
    await net.advance(rng.int(1500));
  }
  net.heal();
  net.setRelayUp(true);
  await net.advance(40_000);
  const rooms = [...live.values()];
  const n = rooms.length;
  for (const [id, room] of live) {
    expect([...room.peers.keys()].sort(), `seed ${seed}: peers of ${id}`).toEqual([...live.keys()].filter((p) => p !== id).sort());
  }
  expect(net.openConnections(), `seed ${seed}: connections`).toBe((n * (n - 1)) / 2);
  // Reliable stream after the storm: complete and in order on every pair.
  const got = new Map<string, number[]>();
  for (const [id, room] of live) room.channel('seq').on('message', ({ from, data }) => got.set(`${from}>${id}`, [...(got.get(`${from}>${id}`) ?? []), data[0]!]));
  for (const [id, room] of live) for (const other of live.keys()) if (other !== id) for (let k = 0; k < 20; k++) void room.channel('seq').send(other, Uint8Array.of(k));
  await net.advance(2000);
  expect(got.size, `seed ${seed}: streams`).toBe(n * (n - 1));
  for (const [pair, seq] of got) expect(seq, `seed ${seed}: ${pair}`).toEqual(Array.from({ length: 20 }, (_, k) => k));
  await Promise.all(rooms.map((r) => r.leave()));
}

describe('mesh under churn (seeded)', () => {
  it('ends in a full mesh, one connection per pair, ordered delivery, for seeds 1..30', async () => {
    for (let seed = 1; seed <= 30; seed++) await churn(seed);
  });
});
