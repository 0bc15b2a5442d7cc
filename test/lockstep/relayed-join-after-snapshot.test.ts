/**
 * A member admitted just after a spectator admitted through a player (its join proposed
 * before the spectator's join frame, so in the spectator's snapshot, but not among the
 * members of the spectator's own join), whose join reaches the spectator only after that
 * snapshot. A player: the spectator learns its join from the snapshot, and the join itself
 * is then only acknowledged; the spectator must still answer the new player's inputs
 * (Admission.onSnapshot), or the player resends its first inputs for good, the spectator
 * stalls on them, and the player forgets it as silent. A spectator: the snapshot lists it
 * with no join frame, and its join must still be taken and acknowledged (Admission.onJoin),
 * or the coordinator holds its inputs back at that join frame for good.
 */
import { describe, expect, it } from 'vitest';
import { Kind, decodeControl } from '../../src/lockstep/wire.js';
import { advanceUntil, connect, expectAgreement, net, playing, walk } from './support/memory-sessions.js';

describe('a player admitted just after a spectator that watches through a forwarder', () => {
  it('gets the spectator\'s acknowledgements, and the spectator follows it, when its join reaches the spectator only after the snapshot', async () => {
    const seed = 726;
    const n = net(seed);
    const logs: string[] = [];
    const { players: [a, b] } = await playing(n, seed, ['a', 'b'], logs);
    // w cannot reach the coordinator a: b passes its hello on, and its join and snapshot.
    n.block('a', 'w');
    // x is in the room (connected to every peer) before w arrives, its session not yet made.
    const xRoom = n.join('game', { peerId: 'x' });
    await advanceUntil(n, () => xRoom.peers.size === 2, 5000, 20);
    const w = walk(n.join('game', { peerId: 'w' }), n, 2, { spectator: true }, logs);
    let wAt = -1;
    a.on('player-joined', (e) => e.peer === 'w' && (wAt = e.atFrame));
    await advanceUntil(n, () => wAt >= 0, 10_000, 1);
    expect(wAt).toBeGreaterThan(0);
    // a proposed w's join; x's session starts now, so a admits x before w's join frame.
    const x = walk(xRoom, n, 3, {}, logs);
    let xAt = -1;
    a.on('player-joined', (e) => e.peer === 'x' && (xAt = e.atFrame));
    const absent: string[] = [];
    x.on('absent', (e) => absent.push(e.peer));
    await advanceUntil(n, () => x.status === 'running' && w.status === 'running', 10_000);
    expect({ x: x.status, w: w.status, xAfterW: xAt >= wAt }).toEqual({ x: 'running', w: 'running', xAfterW: true });
    // 15 s on (past x's wait for a silent member): w follows every player, x among them, and
    // every player lists it.
    await n.advance(15_000);
    const top = Math.min(a.frame, b.frame, x.frame);
    expect({ behind: top - w.frame < 100, absent, lists: [a, b, x].map((s) => s.spectators) }).toEqual({ behind: true, absent: [], lists: [['w'], ['w'], ['w']] });
    expect(expectAgreement([a, b, x, w], top - 300, Math.min(top, w.frame - 5))).toBeGreaterThan(20);
    for (const s of [a, b, x, w]) s.leave();
  });
});

describe('a spectator admitted just after a spectator admitted through a player', () => {
  it('is acknowledged by it when its join comes from the coordinator after the snapshot, so the players do not freeze', async () => {
    const seed = 727;
    const n = net(seed);
    const logs: string[] = [];
    // Players 150 ms apart (their input delay, from the measured RTT, covers it).
    n.setLink('a', 'b', { latencyMs: 150 });
    const rooms = await connect(n, ['a', 'b']);
    const [a, b] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs)];
    await n.advance(3000);
    a.start({ seed });
    await n.advance(1000);
    // w is in the room, its session not yet made. v reaches b at once, the coordinator a only
    // some 15 s after it arrives (the retry after a failed attempt), over a 1 s link.
    const wRoom = n.join('game', { peerId: 'w' });
    n.block('a', 'v');
    n.setLink('a', 'v', { latencyMs: 1000 });
    const vRoom = n.join('game', { peerId: 'v' });
    const heard: string[] = []; // what reaches v, in order (this listener runs before its session's)
    vRoom.channel('lockstep:ctl', { reliability: 'reliable' }).on('message', ({ from, data }) => {
      const outer = decodeControl(data);
      const m = outer.kind === Kind.relay ? decodeControl(outer.control) : outer;
      if (m.kind === Kind.snapshot || m.kind === Kind.join) heard.push(`${m.kind === Kind.join ? `join ${m.peer}` : 'snapshot'} from ${from}`);
    });
    await n.advance(14_000);
    n.unblock('a', 'v');
    await n.advance(700);
    // v's session starts while it reaches b alone: b passes its hello on, and a's join (a
    // admits v through b, whose snapshot v loads); then a's connection to v opens.
    const v = walk(vRoom, n, 2, { spectator: true }, logs);
    const joined: string[] = [];
    a.on('player-joined', (e) => joined.push(e.peer));
    await advanceUntil(n, () => rooms[0]!.peers.has('v'), 5000, 5);
    expect({ joined, running: v.status === 'running' }).toEqual({ joined: ['v'], running: false });
    // w's session starts: a admits it, after v's join frame, before b steps that frame (so
    // v's snapshot from b lists w). a's join of w to v, a member it reaches now and must
    // hear acknowledge, goes over the slow link: it comes after that snapshot.
    await n.advance(50);
    const w = walk(wRoom, n, 3, { spectator: true }, logs);
    await advanceUntil(n, () => w.status === 'running' && v.status === 'running', 10_000);
    await n.advance(3000);
    expect(heard.indexOf('snapshot from b')).toBeLessThan(heard.indexOf('join w from a'));
    const from = Math.min(a.frame, b.frame);
    await n.advance(3000);
    expect({ a: a.frame > from + 150, b: b.frame > from + 150, v: v.status, w: w.status, lists: [a, b, v].map((s) => [...s.spectators].sort()) })
      .toEqual({ a: true, b: true, v: 'running', w: 'running', lists: [['v', 'w'], ['v', 'w'], ['v', 'w']] });
    const top = Math.min(a.frame, b.frame) - 20;
    expect(expectAgreement([a, b, v, w], top - 200, Math.min(top, v.frame - 5, w.frame - 5))).toBeGreaterThan(10);
    for (const s of [a, b, v, w]) s.leave();
  });
});
