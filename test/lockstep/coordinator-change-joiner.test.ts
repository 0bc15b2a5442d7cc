/**
 * A late joiner whose join was lost with its connection to the coordinator that sent it,
 * and a new coordinator that took over before admitting it again. The join reached the
 * other members, so they knew of that admission; the joiner never did, so its hellos'
 * `after` stayed below that join frame. The old coordinator forgets the admission when its
 * connection to the joiner closes (e90b8ac), but the member that takes over had a
 * connection to the joiner that never dropped: it could take each hello of it for one
 * sent before it heard of its join (stale), and never admit it. An admission now makes a
 * peer's hellos stale only once a packet of it came from the peer (it heard of it), and a
 * member forgets a peer's hello when it applies a join of it, so a peer whose session
 * stopped is still admitted once only.
 */
import { describe, expect, it } from 'vitest';
import { Kind, decodeControl } from '../../src/lockstep/wire.js';
import { advanceUntil, connect, expectAgreement, net, walk } from './support/memory-sessions.js';

describe('a late joiner whose join was lost with the coordinator that sent it', () => {
  it('the member taking over as coordinator admits it, and all agree', async () => {
    const n = net(1701);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b', 'c']);
    const [a, b, c] = rooms.map((r, i) => walk(r, n, i, {}, logs));
    await n.advance(500);
    a!.start({ seed: 1701 });
    await n.advance(2000);
    // a's messages take 300 ms to reach j, b's and c's 20 ms.
    n.setLink('a', 'j', { latencyMs: 300 });
    let lostJoin: number | undefined;
    // When b hears a's join of j, the one to j is still on its way: a's connection to j fails with it.
    rooms[1]!.channel('lockstep:ctl').on('message', ({ from, data }) => {
      const m = decodeControl(data);
      if (from === 'a' && m.kind === Kind.join && m.peer === 'j' && lostJoin === undefined) {
        lostJoin = m.atFrame;
        n.wire.fail('a', 'j');
        // And a connects to j again only after it left the game (else it would admit j itself).
        n.setLink('a', 'j', { latencyMs: 5000 });
      }
    });
    const j = walk(n.join('game', { peerId: 'j' }), n, 3, {}, logs);
    const heard: string[] = [];
    j.on('not-admitted', () => heard.push('not-admitted'));
    j.on('rejoining', (e) => heard.push(`rejoining:${e.reason.code}`));
    await advanceUntil(n, () => lostJoin !== undefined, 10_000, 5);
    expect(lostJoin).toBeDefined();
    // a announced j gone and the players dropped that admission; then a leaves the game
    // before it admits j again (it would: it forgot the admission with the connection).
    const gone: string[] = [];
    for (const s of [b!, c!]) s.on('player-left', (e) => e.peer === 'j' && gone.push(s.selfId));
    await advanceUntil(n, () => gone.length === 2, 5_000, 5);
    expect({ gone: gone.sort(), j: j.status, aLinked: rooms[0]!.peers.has('j') }).toEqual({ gone: ['b', 'c'], j: 'lobby', aLinked: false });
    a!.leave();
    await advanceUntil(n, () => j.status === 'running' && j.frame >= b!.frame - 5, 30_000);
    expect({ j: j.status, heard, players: [...b!.players].sort() }).toEqual({ j: 'running', heard: [], players: ['b', 'c', 'j'] });
    const from = Math.max(j.frame, b!.frame);
    await advanceUntil(n, () => [b!, c!, j].every((s) => s.frame >= from + 300), 20_000);
    expect(expectAgreement([b!, c!, j], from, from + 300)).toBeGreaterThan(20);
    for (const s of [b!, c!, j]) s.leave();
  });

  it('a peer whose session stopped after its hello is admitted once, not again and again', async () => {
    // Its admission is dropped without a word from it, as a lost join's is; only a hello it
    // sends after an admission may start another, and a stopped session sends none.
    const n = net(1702);
    const rooms = await connect(n, ['a', 'b']);
    const [a, b] = rooms.map((r, i) => walk(r, n, i));
    await n.advance(500);
    a!.start({ seed: 1702 });
    await n.advance(2000);
    n.setLink('a', 'j', { latencyMs: 150 });
    n.setLink('b', 'j', { latencyMs: 150 });
    const j = walk(n.join('game', { peerId: 'j' }), n, 2);
    const admissions: number[] = [];
    a!.on('player-joined', (e) => e.peer === 'j' && admissions.push(e.atFrame));
    const absent: string[] = [];
    a!.on('absent', (e) => absent.push(e.peer));
    // Its hello (connected to a and b) is on its way when its session stops.
    for (let i = 0; i < 200 && rooms[0]!.peers.size < 2; i++) await n.advance(5);
    await n.advance(100);
    j.leave();
    await n.advance(60_000);
    expect({ absent, j: j.status, players: [...a!.players].sort(), running: a!.frame > 3000 }).toEqual({ absent: ['j'], j: 'stopped', players: ['a', 'b'], running: true });
    expect(admissions.length).toBe(1);
    for (const s of [a!, b!]) s.leave();
  });
});
