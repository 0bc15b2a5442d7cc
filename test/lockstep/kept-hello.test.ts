/**
 * A lobby hello not past a peer's last admission. One the coordinator keeps
 * (JoinProposals.maybeAdmit) must not admit again a peer whose session stopped: one sent
 * just before the peer took its join reaches the coordinator after the admission, over a
 * direct connection too, and when the peer never sends a packet of that admission (its
 * session stopped as the join came), nothing made that hello stale. Once the peer counted
 * as absent, the periodic retry admitted it again from that hello, and it counted as
 * absent once more SILENT_MEMBER_MS later. But a peer that left the game itself and starts
 * a new session in the room (whose hellos ask for frame 0) must be admitted again.
 */
import { describe, expect, it } from 'vitest';
import { Kind, decodeControl, encodeControl, type Role } from '../../src/lockstep/wire.js';
import { advanceUntil, connect, expectAgreement, net, playing, walk } from './support/memory-sessions.js';

/**
 * Players a and b play; `id` (reaching both, 300 ms from the coordinator a) asks to join
 * as `role`, and its session stops as a's join reaches it, so it never sends a packet of
 * the game; a lobby hello of its own, sent over its connection to a just before (it sends
 * one every second), reaches a after the admission.
 */
async function stopsAsAdmitted(seed: number, id: string, role: Role) {
  const n = net(seed);
  const logs: string[] = [];
  const { players: [a, b] } = await playing(n, seed, ['a', 'b'], logs);
  n.setLink(id, 'a', { latencyMs: 300 });
  const room = n.join('game', { peerId: id });
  const ctl = room.channel('lockstep:ctl', { reliability: 'reliable' });
  const joins = new Set<number>(); // admissions, by join frame
  // Registered before the session's own listener, so this runs first.
  ctl.on('message', ({ data }) => {
    // From a, or passed on by b (control-relay.ts).
    const outer = decodeControl(data);
    const m = outer.kind === Kind.relay ? decodeControl(outer.control) : outer;
    if (m.kind !== Kind.join || m.peer !== id) return;
    joins.add(m.atFrame);
    if (s.status !== 'lobby') return;
    void ctl.send('a', encodeControl({ kind: Kind.hello, role, started: false, connected: ['a', 'b'], after: 0 }));
    s.leave();
  });
  const s = walk(room, n, 2, { spectator: role === 'spectator' }, logs);
  const absent: string[] = [];
  a.on('absent', (e) => absent.push(e.peer));
  await advanceUntil(n, () => joins.size > 0, 15_000);
  expect({ status: s.status, joins: joins.size }).toEqual({ status: 'stopped', joins: 1 });
  return { n, a, b, joins, absent };
}

describe('a lobby hello kept from before an admission', () => {
  it('does not admit again a spectator reaching the coordinator whose session stopped as it was admitted', async () => {
    const { n, a, b, joins, absent } = await stopsAsAdmitted(741, 'w', 'spectator');
    await n.advance(200);
    expect([a.spectators, b.spectators]).toEqual([['w'], ['w']]);
    // After SILENT_MEMBER_MS a counts w absent and forgets it (and tells b). The hello it
    // kept, from before that admission, must not admit w again.
    await n.advance(25_000);
    expect({ joins: joins.size, absent, lists: [a.spectators, b.spectators] }).toEqual({ joins: 1, absent: ['w'], lists: [[], []] });
    expect(expectAgreement([a, b], a.frame - 300, a.frame - 100)).toBeGreaterThan(15);
    for (const s of [a, b]) s.leave();
  });

  it('does not admit again a player whose session stopped as it was admitted (the players would wait for it again)', async () => {
    const { n, a, b, joins, absent } = await stopsAsAdmitted(742, 'c', 'player');
    // a and b wait for c's inputs from its join frame until a counts it absent and the
    // players drop it; the hello a kept must not admit it again (another such wait).
    await n.advance(30_000);
    expect({ joins: joins.size, absent, players: [[...a.players], [...b.players]] }).toEqual({ joins: 1, absent: ['c'], players: [['a', 'b'], ['a', 'b']] });
    const from = a.frame;
    await n.advance(2000);
    expect(Math.min(a.frame, b.frame)).toBeGreaterThan(from + 100);
    expect(expectAgreement([a, b], a.frame - 300, a.frame - 100)).toBeGreaterThan(15);
    for (const s of [a, b]) s.leave();
  });
});

describe('a late joiner that left the game and starts a new session in the room', () => {
  for (const [role, seed] of [['player', 743], ['spectator', 744]] as const) {
    it(`is admitted again (${role}), though its new session's hellos ask for no frame past its last admission`, async () => {
      const n = net(seed);
      const logs: string[] = [];
      const { players: [a, b] } = await playing(n, seed, ['a', 'b'], logs);
      const room = n.join('game', { peerId: 'c' });
      const first = walk(room, n, 2, { spectator: role === 'spectator' }, logs);
      await advanceUntil(n, () => first.status === 'running', 10_000);
      await n.advance(2000);
      // c leaves the game (not the room); a while later (past the 5 s between admissions)
      // the app makes a new session for it: its hellos ask for frame 0, as any new one's.
      first.leave();
      await n.advance(7000);
      const again = walk(room, n, 2, { spectator: role === 'spectator' }, logs);
      await advanceUntil(n, () => again.status === 'running', 10_000);
      expect(again.status).toBe('running');
      const target = a.frame + 200;
      await advanceUntil(n, () => again.frame >= target, 10_000);
      const listed = role === 'player' ? [a.players, b.players] : [a.spectators, b.spectators];
      expect(listed.map((l) => l.includes('c'))).toEqual([true, true]);
      expect(expectAgreement([a, b, again], target - 200, target)).toBeGreaterThan(15);
      for (const s of [a, b, again]) s.leave();
    });
  }
});

describe('a lobby hello of a player that comes just after the start', () => {
  it('does not admit that player again once it left the game (the players would wait for its stopped session)', async () => {
    const seed = 745;
    const n = net(seed);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b', 'c']);
    const [a, b, c] = rooms.map((r, i) => walk(r, n, i, {}, logs));
    const ctl = rooms[2]!.channel('lockstep:ctl', { reliability: 'reliable' });
    const joins: number[] = [];
    ctl.on('message', ({ data }) => {
      const m = decodeControl(data);
      if (m.kind === Kind.join && m.peer === 'c') joins.push(m.atFrame);
    });
    await n.advance(200);
    // c's lobby hello (one a second) on its way to a as a starts: a keeps it, c being a
    // player from the start on, which says nothing more from the lobby.
    a!.start({ seed });
    void ctl.send('a', encodeControl({ kind: Kind.hello, role: 'player', started: false, connected: ['a', 'b'], after: 0 }));
    await n.advance(3000);
    expect([c!.status, [...a!.players].sort()]).toEqual(['running', ['a', 'b', 'c']]);
    // c leaves the game (not the room); a and b drop it and play on, and must not admit
    // its stopped session again from that hello (they would wait 10 s for its inputs).
    c!.leave();
    await n.advance(1000);
    const from = Math.min(a!.frame, b!.frame);
    await n.advance(20_000);
    expect({ joins, players: [[...a!.players].sort(), [...b!.players].sort()] }).toEqual({ joins: [], players: [['a', 'b'], ['a', 'b']] });
    expect(Math.min(a!.frame, b!.frame) - from).toBeGreaterThan(1150);
    expect(expectAgreement([a!, b!], a!.frame - 300, a!.frame - 100)).toBeGreaterThan(15);
    for (const s of [a!, b!]) s.leave();
  });
});
