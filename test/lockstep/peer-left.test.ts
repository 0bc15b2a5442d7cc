/**
 * A peer leaving the room is this peer's own view, not a message of that peer: it is
 * handled even for a peer whose messages the session ignores (after 100 bad ones), and
 * what the session kept about a peer outside the game goes with it.
 */
import { describe, expect, it } from 'vitest';
import { type LockstepEvents } from '../../src/index.js';
import { Admission } from '../../src/lockstep/admission.js';
import { Departures } from '../../src/lockstep/departures.js';
import { HashExchange } from '../../src/lockstep/hash-exchange.js';
import { InputStream } from '../../src/lockstep/input-stream.js';
import { JoinProposals } from '../../src/lockstep/join-proposals.js';
import { SessionCore } from '../../src/lockstep/session-core.js';
import { LobbyWait } from '../../src/lockstep/lobby-wait.js';
import { SplitGames } from '../../src/lockstep/split-games.js';
import { SilentMembers } from '../../src/lockstep/silent-members.js';
import { Simulation } from '../../src/lockstep/simulation.js';
import { SpectatorLinks } from '../../src/lockstep/spectator-links.js';
import { generationOf } from '../../src/lockstep/wire.js';
import { Emitter } from '../../src/util/emitter.js';
import { makeWalkGame } from './games.js';
import { advanceUntil, connect, expectSameHashes, net, walk, playersAndSpectator } from './support/memory-sessions.js';

describe('a peer the session ignores leaves the room', () => {
  it('a spectator that sent 100 bad messages to the coordinator is still gone once it leaves: later joiners are admitted and hashes judged', async () => {
    const n = net(501, { mesh: { maxStrikes: Infinity } }); // the session's own limit is tested, not the mesh's (maxStrikes)
    const logs: string[] = [];
    const { rooms, a, b, w } = await playersAndSpectator(n, 501, logs, 100);
    for (let i = 0; i < 100; i++) void rooms[2]!.channel('lockstep:ctl').send('a', new Uint8Array([99]));
    await n.advance(500);
    expect(logs.filter((l) => /^a: dropped a message from w: .*ignoring this peer from now on/.test(l)).length).toBe(1);
    w.leave(); // its leave is ignored too
    await rooms[2]!.leave();
    await n.advance(3000);
    // Had a kept w as a member, a joiner would have to be connected to it: nobody would be admitted again.
    expect({ a: a.spectators, b: b.spectators }).toEqual({ a: [], b: [] });
    const z = walk(n.join('game', { peerId: 'z' }), n, 3, { spectator: true }, logs);
    let joinedAt = -1;
    z.on('started', (e) => (joinedAt = e.frame));
    await advanceUntil(n, () => z.status === 'running', 20_000);
    const target = a.frame + 200;
    await advanceUntil(n, () => z.frame >= target, 20_000);
    expect({ z: z.status, spectators: a.spectators }).toEqual({ z: 'running', spectators: ['z'] });
    expectSameHashes([a, b, z], joinedAt, target);
    expect(a.stats().desyncs + b.stats().desyncs + z.stats().desyncs).toBe(0);
    for (const s of [a, b, z]) s.leave();
  });
});

describe('what the session keeps about peers', () => {
  it('one late spectator after another visiting and leaving the room: nothing is kept per visitor', async () => {
    const n = net(97);
    const rooms = await connect(n, ['a', 'b', 'v']);
    const game = makeWalkGame();
    const c = new SessionCore({ room: rooms[0]!, game, clock: n.clock, log: () => {} }, n.clock, new Emitter<LockstepEvents>());
    c.admission = new Admission(c);
    c.proposals = new JoinProposals(c);
    c.departures = new Departures(c);
    c.hashing = new HashExchange(c);
    c.links = new SpectatorLinks(c);
    c.silent = new SilentMembers(c);
    c.lobbyWait = new LobbyWait(c);
    c.splits = new SplitGames(c);
    c.status = 'running';
    c.config = { seed: 97, tickHz: 60, delay: 2, hashEvery: 10 };
    c.gen = generationOf(97, 'a');
    c.sim = Simulation.start(game, 97, ['a', 'b'], 100);
    for (const p of ['a', 'b']) {
      c.streams.set(p, new InputStream(0));
      c.since.set(p, 0);
    }
    const sizes = () => ({ since: c.since.size, proposer: c.proposer.size, lastAdmission: c.lastAdmission.size, bad: c.bad.size, spectators: c.spectators.size });
    for (let i = 0; i < 500; i++) {
      // Admitted (as the coordinator does), one bad message, then gone from the room.
      const id = `visitor-${i}`;
      c.admission.applyJoin(id, 'spectator', 200 + i, 'a');
      c.badMessage(id, 'a bad message');
      c.departures.onPeerLeft(id);
    }
    expect(sizes()).toEqual({ since: 2, proposer: 0, lastAdmission: 0, bad: 0, spectators: 0 });
    // A spectator that leaves the game but stays in the room keeps them: the rate limit of
    // its admissions and the stale-hello check need them.
    c.admission.applyJoin('v', 'spectator', 900, 'a');
    c.departures.departed('v');
    c.departures.forgetPeer('v');
    expect({ member: c.isMember('v'), lastAdmission: c.lastAdmission.get('v') }).toEqual({ member: false, lastAdmission: 900 });
  });
});
