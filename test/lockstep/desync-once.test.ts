import { describe, expect, it } from 'vitest';
import { createLockstepSession, type Game, type MemoryNetwork, type Room } from '../../src/index.js';
import { makeWalkGame, scriptedButtons, type WalkState } from './games.js';
import { advanceUntil, connect, net, type Walk } from './support/memory-sessions.js';

type Pad = ReturnType<typeof scriptedButtons>;

/** The walk game, plus `salts[frame]` added to the state when stepping that frame (this peer's copy only). */
function saltedWalk(salts: Record<number, number>): Game<WalkState, Pad> {
  const base = makeWalkGame();
  return {
    ...base,
    step(s, inputs, ctx) {
      const next = base.step(s, inputs, ctx);
      next.frames += salts[ctx.frame] ?? 0;
      return next;
    },
  };
}

function player(room: Room, n: MemoryNetwork, index: number, game: Game<WalkState, Pad>): Walk {
  const s: Walk = createLockstepSession({ room, game, clock: n.clock, hashEvery: 10, log: () => {}, input: () => scriptedButtons(s.frame, index) }) as Walk;
  return s;
}

describe('desync fires once per divergence', () => {
  it('one event while the states stay apart, none once they agree, and another when they part again', async () => {
    const n = net(71);
    const ids = ['a', 'b', 'c'];
    const rooms = await connect(n, ids);
    // c's copy of the game goes wrong at frame 100 (state 101 on), rights itself at 200
    // (state 201 on, so hashed frame 210 agrees again), and goes wrong again for good at 300.
    const games = [saltedWalk({}), saltedWalk({}), saltedWalk({ 100: 7, 200: -7, 300: 7 })];
    const ps = rooms.map((r, i) => player(r, n, i, games[i]!));
    const seen = ps.map(() => [] as Array<{ frame: number; peers: string[]; distinct: number }>);
    let dumping: Promise<Record<string, Uint8Array | undefined>> | undefined;
    ps.forEach((s, i) =>
      s.on('desync', (d) => {
        seen[i]!.push({ frame: d.frame, peers: Object.keys(d.hashes).sort(), distinct: new Set(Object.values(d.hashes)).size });
        if (i === 0) dumping ??= d.dump();
      }),
    );
    await n.advance(200);
    ps[0]!.start({ seed: 3 });
    await advanceUntil(n, () => ps.every((s) => s.frame >= 600), 30_000);

    // 50 hashed frames from 110 to 600 differ (110–200 and 310–600); each peer hears of two divergences.
    const expected = [
      { frame: 110, peers: ids, distinct: 2 },
      { frame: 310, peers: ids, distinct: 2 },
    ];
    expect(seen).toEqual([expected, expected, expected]);
    expect(ps.map((s) => s.stats().desyncs)).toEqual([2, 2, 2]);
    // Between the two, they did agree: frame 210 hashed alike everywhere.
    expect(new Set(ps.map((s) => s.hashAt(210))).size).toBe(1);
    // The first event's dump still has every member's state of frame 110.
    const dump = await dumping!;
    expect(Object.keys(dump).sort()).toEqual(ids);
    expect(Object.values(dump).every((state) => state !== undefined)).toBe(true);
    for (const s of ps) s.leave();
  });
});
