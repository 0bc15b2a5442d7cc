/**
 * A member listed by a start that never plays (its session had stopped, or it ignored the
 * start) used to freeze the game for everyone: every player waited for its inputs for
 * good, and a late join waited for its acknowledgement. After SILENT_MEMBER_MS it is
 * `absent` and the game goes on without it. A spectator watching through a forwarder is
 * not silent towards a player it has no connection to: its wait starts when that opens.
 */
import { describe, expect, it } from 'vitest';
import { SILENT_MEMBER_MS } from '../../src/lockstep/silent-members.js';
import { advanceUntil, connect, expectAgreement, net, playing, walk } from './support/memory-sessions.js';

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

  // e is admitted through b, blocked from the coordinator a; its connection to a opens just
  // under SILENT_MEMBER_MS after a listed it, over a slow link, so e's first packet reaches
  // a after a's deadline. Counted from the admission, a forgot e as silent and announced it
  // (every player forgot it), while e ran on, frozen: b refused its wants.
  it('a spectator whose connection to a player opens just before SILENT_MEMBER_MS after its admission is not taken for silent', async () => {
    const seed = 700;
    const n = net(seed);
    const logs: string[] = [];
    const { rooms: [aRoom], players: [a, b] } = await playing(n, seed, ['a', 'b'], logs);
    n.block('a', 'e');
    n.setLink('a', 'e', { latencyMs: 300 });
    const eRoom = n.join('game', { peerId: 'e' });
    await advanceUntil(n, () => eRoom.peers.size === 1, 5_000, 10);
    // e's attempt to reach a times out 15 s after it came into the room, and the next one
    // gets through: e asks to watch 5.2 s after it came, so a admits it about 10 s before that.
    await n.advance(5_200);
    let admitted = -1;
    let opened = -1;
    a.on('player-joined', ({ peer }) => void (peer === 'e' && (admitted = n.clock.now())));
    aRoom!.on('peer-joined', ({ id }) => void (id === 'e' && (opened = n.clock.now())));
    const absent: string[] = [];
    for (const s of [a, b]) s.on('absent', (ev) => absent.push(`${s.selfId}: ${ev.peer}`));
    const e = walk(eRoom, n, 2, { spectator: true }, logs);
    await advanceUntil(n, () => e.status === 'running', 10_000, 10);
    n.unblock('a', 'e');
    await advanceUntil(n, () => opened >= 0, 20_000, 10);
    expect(opened - admitted).toBeGreaterThan(SILENT_MEMBER_MS - 1000);
    expect(opened - admitted).toBeLessThan(SILENT_MEMBER_MS);
    await n.advance(15_000);
    expect({ absent, a: a.spectators, b: b.spectators, e: e.status, following: e.frame > a.frame - 30 }).toEqual({
      absent: [], a: ['e'], b: ['e'], e: 'running', following: true,
    });
    expectAgreement([a, b, e], e.frame - 300, e.frame - 5);
    for (const s of [a, b, e]) s.leave();
  });
});
