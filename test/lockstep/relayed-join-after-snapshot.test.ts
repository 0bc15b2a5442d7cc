/**
 * A player admitted just after a spectator that watches through a forwarder (its join
 * proposed before the spectator's join frame, so in the spectator's snapshot, but not among
 * the members of the spectator's own join). The spectator learns that join from its
 * snapshot; the join itself reaches it only later, relayed by its forwarder once it serves
 * it (control-relay.ts), and is then only acknowledged. The spectator must still answer the
 * new player's inputs (Admission.onSnapshot), or the player resends its first inputs for
 * good, the spectator stalls on them, and the player forgets it as silent.
 */
import { describe, expect, it } from 'vitest';
import { advanceUntil, expectAgreement, net, playing, walk } from './support/memory-sessions.js';

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
