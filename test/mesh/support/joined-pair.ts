import { expect } from 'vitest';
import type { Room } from '../../../src/mesh/types.js';
import type { ManualClock } from '../../../src/util/clock.js';

/** Let pending promise callbacks and setImmediate work run (a memory network's deliveries). */
export const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

/** Peers a and b made by `join`, connected to each other (settled, then 100 ms on `clock`). */
export async function joinedPair(join: (id: string) => Room, clock: ManualClock): Promise<{ a: Room; b: Room }> {
  const a = join('a');
  const b = join('b');
  await settle();
  await clock.advanceAsync(100);
  expect(a.peers.has('b') && b.peers.has('a')).toBe(true);
  return { a, b };
}
