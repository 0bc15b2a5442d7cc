/**
 * A member listed by a start that never plays (its session had stopped, or it ignored the
 * start) used to freeze the game for everyone: every player waited for its inputs for
 * good, and a late join waited for its acknowledgement. After SILENT_MEMBER_MS it is
 * `absent` and the game goes on without it.
 */
import { describe, expect, it } from 'vitest';
import { SILENT_MEMBER_MS } from '../../src/lockstep/silent-members.js';
import { advanceUntil, connect, expectAgreement, net, walk } from './support/memory-sessions.js';

describe('a member that never plays', () => {
  it('a player whose session stopped in the lobby is dropped once absent, and the others play on', async () => {
    const n = net(601);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b', 'x']);
    const [a, b, x] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs), walk(rooms[2]!, n, 2, {}, logs)];
    await n.advance(1500); // hellos: a counts x as a player of the lobby
    x.leave(); // x's game view closed; its page stays in the room and says nothing more
    const absent: string[] = [];
    // Heard on the player that noticed first; the other learns of it from that one's `leave`.
    for (const s of [a, b]) s.on('absent', (e) => absent.push(`${e.peer}:${e.role}:${e.reason.code}`));
    a.start({ seed: 601 });
    expect([...a.players].sort()).toEqual(['a', 'b', 'x']);
    await n.advance(SILENT_MEMBER_MS / 2);
    expect(a.frame).toBeLessThan(10); // waiting for x: lockstep cannot step without it
    await advanceUntil(n, () => a.frame >= 600 && b.frame >= 600, 30_000);
    expect({ a: a.frame >= 600, b: b.frame >= 600, players: [...a.players].sort(), absent: [...new Set(absent)] }).toEqual({
      a: true, b: true, players: ['a', 'b'], absent: ['x:player:member-silent'],
    });
    expectAgreement([a, b], 10, 600);
    for (const s of [a, b]) s.leave();
  });

  it('a listed spectator that never watches no longer blocks a late join', async () => {
    const n = net(602);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b', 'w']);
    const [a, b] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs)];
    await n.advance(200);
    a.start({ seed: 602, players: ['a', 'b'], spectators: ['w'] }); // w runs no session
    await n.advance(2000);
    const z = walk(n.join('game', { peerId: 'z' }), n, 3, {}, logs);
    let joinedAt = -1;
    z.on('started', (e) => (joinedAt = e.frame));
    await advanceUntil(n, () => z.status === 'running' && z.frame >= joinedAt + 300, 40_000);
    expect({ z: z.status, players: [...a.players].sort(), spectators: a.spectators, moving: z.frame >= joinedAt + 300 }).toEqual({
      z: 'running', players: ['a', 'b', 'z'], spectators: [], moving: true,
    });
    expectAgreement([a, b, z], joinedAt, z.frame);
    for (const s of [a, b, z]) s.leave();
  });
});
