/**
 * A late joiner, before its snapshot, knows the members (the join lists them) but not who
 * plays: it held every member for a player, so a spectator's word counted with it. A
 * spectator telling a joining peer that a player left got that player dropped by everyone:
 * the joiner, a player in the others' view, announced it.
 */
import { describe, expect, it } from 'vitest';
import { Kind, encodeControl, generationOf } from '../../src/lockstep/wire.js';
import { advanceUntil, expectAgreement, net, walk, playersAndSpectator } from './support/memory-sessions.js';

describe('a joiner before its snapshot', () => {
  it("takes no spectator's word that a player left: the player stays in the game", async () => {
    const n = net(641);
    const logs: string[] = [];
    const { rooms, a, b, w } = await playersAndSpectator(n, 641, logs, 100);
    const z = walk(n.join('game', { peerId: 'z' }), n, 3, {}, logs);
    await advanceUntil(n, () => z.status === 'joining', 10_000, 5);
    // w, a spectator member, tells the joining z that player b left.
    await rooms[2]!.channel('lockstep:ctl').send('z', encodeControl({ kind: Kind.leave, gen: generationOf(641, 'a'), peer: 'b', since: 0 }));
    await advanceUntil(n, () => z.status === 'running', 10_000);
    const target = a.frame + 300;
    await advanceUntil(n, () => z.frame >= target && b.frame >= target, 20_000);
    expect({ b: b.status, players: [...a.players].sort(), z: z.status }).toEqual({ b: 'running', players: ['a', 'b', 'z'], z: 'running' });
    expect(logs.some((l) => /^z: ignoring a leave of b from w/.test(l))).toBe(true);
    expectAgreement([a, b, z, w], target - 200, target);
    for (const s of [a, b, w, z]) s.leave();
  });
});
