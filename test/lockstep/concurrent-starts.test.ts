/**
 * Friends in the lobby pressing Start at about the same time: each start() began its own
 * game before the other's start arrived, and each peer ended up playing alone (the other
 * never played its game, so it was dropped as silent after 10 s). The start of the lowest
 * starter id now wins everywhere: members of the other game leave it (it cannot have
 * stepped a frame that needed an input) and play the winning one.
 */
import { describe, expect, it } from 'vitest';
import { generationOf } from '../../src/lockstep/wire.js';
import { advanceUntil, connect, expectAgreement, net, walk, type Walk } from './support/memory-sessions.js';

/** Every peer's latest `started` and its `start-lost` events, by peer. */
function watch(sessions: Walk[]) {
  const seeds = new Map<string, number>();
  const lost: string[] = [];
  for (const s of sessions) {
    s.on('started', (e) => seeds.set(s.selfId, e.seed));
    s.on('start-lost', (e) => lost.push(`${s.selfId}: ${e.starter} lost to ${e.winner}`));
  }
  return { seeds, lost };
}

async function playTogether(n: ReturnType<typeof net>, sessions: Walk[], frames: number) {
  await advanceUntil(n, () => sessions.every((s) => s.frame >= frames), 30_000);
  const view = (s: Walk) => ({ status: s.status, players: [...s.players].sort(), far: s.frame >= frames });
  return sessions.map(view);
}

describe('two starts at about the same time', () => {
  it('two peers starting in the same tick end up in one game, the lower starter id\'s', async () => {
    const n = net(701);
    const rooms = await connect(n, ['a', 'b']);
    const [a, b] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
    await n.advance(1500);
    const { seeds, lost } = watch([a, b]);
    expect(generationOf(701, 'a')).not.toBe(generationOf(702, 'b'));
    a.start({ seed: 701 });
    b.start({ seed: 702 });
    const views = await playTogether(n, [a, b], 600);
    expect(views).toEqual([a, b].map(() => ({ status: 'running', players: ['a', 'b'], far: true })));
    expect({ seeds: Object.fromEntries(seeds), lost }).toEqual({ seeds: { a: 701, b: 701 }, lost: ['b: b lost to a'] });
    expect(expectAgreement([a, b], 0, 600)).toBe(61);
    for (const s of [a, b]) s.leave();
  });

  it('the higher id starting first (its start still on its way) joins the lower id\'s game too', async () => {
    const n = net(702);
    const rooms = await connect(n, ['a', 'b']);
    const [a, b] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
    await n.advance(1500);
    const { seeds, lost } = watch([a, b]);
    b.start({ seed: 705 });
    await n.advance(10); // b's start takes 20 ms to reach a
    a.start({ seed: 706 });
    const views = await playTogether(n, [a, b], 600);
    expect(views).toEqual([a, b].map(() => ({ status: 'running', players: ['a', 'b'], far: true })));
    expect({ seeds: Object.fromEntries(seeds), lost }).toEqual({ seeds: { a: 706, b: 706 }, lost: ['b: b lost to a'] });
    expectAgreement([a, b], 0, 600);
    for (const s of [a, b]) s.leave();
  });

  // Wire version 5 and earlier named a game by one byte, the XOR of its seed's bytes: two
  // starts with the same byte (1 in 256, or always when an app fixes the seed) could not be
  // told apart, so nobody moved and each starter played alone. The generation now digests the
  // starter's id with the seed (32 bits), and a start must carry its starter's.
  for (const [seedA, seedB, why] of [[701, 191, 'seeds whose old generation byte is the same'], [42, 42, 'the same seed']] as const) {
    it(`two starts at once with ${why} end up in one game`, async () => {
      const oldByte = (s: number) => (s ^ (s >>> 8) ^ (s >>> 16) ^ (s >>> 24)) & 0xff;
      expect(oldByte(seedA)).toBe(oldByte(seedB));
      const n = net(704);
      const rooms = await connect(n, ['a', 'b']);
      const [a, b] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
      await n.advance(1500);
      const { seeds, lost } = watch([a, b]);
      a.start({ seed: seedA });
      b.start({ seed: seedB });
      const views = await playTogether(n, [a, b], 600);
      expect(views).toEqual([a, b].map(() => ({ status: 'running', players: ['a', 'b'], far: true })));
      expect({ seeds: Object.fromEntries(seeds), lost }).toEqual({ seeds: { a: seedA, b: seedA }, lost: ['b: b lost to a'] });
      expect(expectAgreement([a, b], 0, 600)).toBe(61);
      for (const s of [a, b]) s.leave();
    });
  }

  it('three peers, two starting at once: the third begins the losing game first and moves over with the others', async () => {
    const n = net(703);
    const rooms = await connect(n, ['a', 'b', 'c']);
    const [a, b, c] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1), walk(rooms[2]!, n, 2)];
    await n.advance(1500);
    n.setLink('a', 'c', { latencyMs: 60 }); // b's start reaches c first
    const { seeds, lost } = watch([a, b, c]);
    a.start({ seed: 707 });
    b.start({ seed: 708 });
    const views = await playTogether(n, [a, b, c], 600);
    expect(views).toEqual([a, b, c].map(() => ({ status: 'running', players: ['a', 'b', 'c'], far: true })));
    expect({ seeds: Object.fromEntries(seeds), lost: lost.sort() }).toEqual({
      seeds: { a: 707, b: 707, c: 707 },
      lost: ['b: b lost to a', 'c: b lost to a'],
    });
    expectAgreement([a, b, c], 0, 600);
    for (const s of [a, b, c]) s.leave();
  });
});
