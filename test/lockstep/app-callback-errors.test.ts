/** A game or app callback that fails must not freeze the game for everyone in silence. */
import { describe, expect, it } from 'vitest';
import { createLockstepSession } from '../../src/index.js';
import { makeWalkGame, scriptedButtons } from './games.js';
import { advanceUntil, connect, expectAgreement, net, type Walk } from './support/memory-sessions.js';

describe('lockstep: failing app callbacks', () => {
  it.each([
    ['throws', () => { throw new Error('gamepad unplugged'); }],
    ['returns what the input cannot encode', () => undefined],
  ])('a player whose input() %s plays its last input on, logged once, and nobody stalls', async (_, broken) => {
    const n = net(31);
    const rooms = await connect(n, ['a', 'b']);
    const logs: string[] = [];
    let reads = 0;
    const sessions = rooms.map((room, i) => {
      const s: Walk = createLockstepSession({
        room, game: makeWalkGame(), clock: n.clock, log: (m) => logs.push(`${room.selfId}: ${m}`),
        // b's sampler breaks after 40 reads.
        input: () => (i === 1 && ++reads > 40 ? (broken() as never) : scriptedButtons(s.frame, i)),
      }) as Walk;
      return s;
    });
    await n.advance(200);
    sessions[0]!.start({ seed: 5 });
    await advanceUntil(n, () => sessions.every((s) => s.frame >= 300), 20_000);
    expect(sessions.map((s) => s.frame >= 300)).toEqual([true, true]);
    expect(expectAgreement(sessions, 0, 300)).toBe(31);
    expect(logs.filter((l) => l.includes('input() failed'))).toHaveLength(1);
    expect(logs.filter((l) => l.includes('tick failed'))).toEqual([]);
  });
});
