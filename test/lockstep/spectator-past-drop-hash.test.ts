/**
 * A spectator's hash of a frame it stepped past a drop frame before the drop reached it
 * (a state the drop throws away) is no desync; a genuinely different state still is.
 */
import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/lockstep/admission.js';
import { playersDigest } from '../../src/lockstep/hash-exchange.js';
import { LobbyWait } from '../../src/lockstep/lobby-wait.js';
import { SplitGames } from '../../src/lockstep/split-games.js';
import { SilentMembers } from '../../src/lockstep/silent-members.js';
import { Simulation } from '../../src/lockstep/simulation.js';
import { SpectatorLinks } from '../../src/lockstep/spectator-links.js';
import { coreOfA } from './support/hash-core.js';
import { advanceUntil, connect, expectAgreement, net, walk } from './support/memory-sessions.js';

describe('a player leaves while a spectator holds one of its inputs the other player never got', () => {
  it('the spectator hashes frame 200 past the drop frame and rejoins with past-drop; the player raises no desync, and all agree after', async () => {
    // Found by a fuzz (3 peers, seed 115). Here: a 40 ms network, a and b cut from each
    // other (input packets lost) at frame 194, b leaves 30 ms later. c got b's input for a
    // frame a never got, stepped frame 200 with it and sent a its hash before the drop
    // (agreed below 200) reached it.
    const n = net(115, { latencyMs: 40 });
    const rooms = await connect(n, ['a', 'b', 'c']);
    const [a, b] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
    const c = walk(rooms[2]!, n, 2, { spectator: true });
    const desyncs: string[] = [];
    a.on('desync', (e) => desyncs.push(`a@${e.frame}`));
    c.on('desync', (e) => desyncs.push(`c@${e.frame}`));
    const left: number[] = [];
    a.on('player-left', (e) => e.peer === 'b' && left.push(e.atFrame));
    const rejoins: string[] = [];
    c.on('rejoining', (e) => rejoins.push(e.reason.code));
    await n.advance(200);
    a.start({ seed: 5 });
    await advanceUntil(n, () => a.frame >= 194, 30_000, 5);
    n.setLink('a', 'b', { loss: 1, latencyMs: 40 });
    await n.advance(30);
    b.leave();
    await advanceUntil(n, () => a.frame >= 500 && c.status === 'running' && c.frame >= 500, 20_000);
    expect({ left, rejoins, desyncs }).toEqual({ left: [expect.any(Number)], rejoins: ['past-drop'], desyncs: [] });
    expect(left[0]).toBeLessThan(200);
    expect(c.status).toBe('running');
    expect(expectAgreement([a, c], 300, 500)).toBeGreaterThan(0);
    for (const s of [a, c]) s.leave();
  });
});

describe('hashes of another set of players', () => {
  it("are not judged from a spectator, while a spectator's different state of the same players, or a player's of other players, is a desync", async () => {
    const { c, hashing, desyncs, logs } = await coreOfA(92, 500);
    const ours = playersDigest(['a']);
    const theirs = playersDigest(['a', 'x']);
    expect(theirs).not.toBe(ours);
    // Spectator b stepped frame 490 with player x we dropped before it: thrown away, not judged.
    c.hashes.local(490, 111, ['b'], ours);
    hashing.onHash('b', 490, 222, theirs);
    expect(desyncs).toEqual([]);
    expect(logs.some((l) => l.includes('frame 490 from b not judged'))).toBe(true);
    // The same players and another state: a desync, as ever.
    c.hashes.local(480, 111, ['b'], ours);
    hashing.onHash('b', 480, 222, ours);
    expect(desyncs).toEqual([480]);
    // b agrees with us again at 500: a later difference is a new divergence (one desync per divergence).
    c.hashes.local(500, 333, ['b'], ours);
    hashing.onHash('b', 500, 333, ours);
    expect(desyncs).toEqual([480]);
    // A player never steps past a drop frame: another set of players from it is a desync too.
    c.spectators.delete('b');
    c.hashes.local(470, 111, ['b'], ours);
    hashing.onHash('b', 470, 222, theirs);
    expect(desyncs).toEqual([480, 470]);
  });
});

describe('the hash book of a later game', () => {
  it('after our game is forgotten (back to the lobby, or over to a start that won), a spectator past a drop is still not judged', async () => {
    // forgetGame made a new book that judged every hash, whoever sent it: a player readmitted
    // after rejoining raised 'desync' at each spectator's hash of a frame past a drop.
    const { c, hashing, desyncs, logs } = await coreOfA(93, 500);
    c.admission = new Admission(c);
    c.links = new SpectatorLinks(c);
    c.silent = new SilentMembers(c);
    c.lobbyWait = new LobbyWait(c);
    c.splits = new SplitGames(c);
    c.admission.forgetGame();
    // Admitted again (to the same game, say): b watches it.
    c.status = 'running';
    c.sim = Simulation.start(c.game, 93, ['a'], 900);
    c.spectators.add('b');
    c.since.set('a', 0).set('b', 600);
    c.hashes.local(990, 111, ['b'], playersDigest(['a']));
    hashing.onHash('b', 990, 222, playersDigest(['a', 'x']));
    expect(desyncs).toEqual([]);
    expect(logs.some((l) => l.includes('frame 990 from b not judged'))).toBe(true);
  });
});
