/**
 * A copy of a spectator's join that comes after that admission ended for us, or after a
 * later admission of it (a forwarder relays the joins of recent spectators to a spectator
 * it starts serving, ControlRelay.serve, and may not have heard of the leave or the later
 * join yet), lists nobody again; a later admission of the same peer is listed as ever.
 */
import { describe, expect, it } from 'vitest';
import { type LockstepEvents } from '../../src/index.js';
import { Admission } from '../../src/lockstep/admission.js';
import { ControlRelay } from '../../src/lockstep/control-relay.js';
import { Departures } from '../../src/lockstep/departures.js';
import { HashExchange } from '../../src/lockstep/hash-exchange.js';
import { InputRelay } from '../../src/lockstep/input-relay.js';
import { InputStream } from '../../src/lockstep/input-stream.js';
import { JoinProposals } from '../../src/lockstep/join-proposals.js';
import { SessionCore } from '../../src/lockstep/session-core.js';
import { SilentMembers } from '../../src/lockstep/silent-members.js';
import { Simulation } from '../../src/lockstep/simulation.js';
import { type Control, Kind, generationOf } from '../../src/lockstep/wire.js';
import { Emitter } from '../../src/util/emitter.js';
import { makeWalkGame } from './games.js';
import { connect, net } from './support/memory-sessions.js';

/** Spectator e's session core, running at frame 500 of a game of player a; w is in the room. */
async function spectatorCore(seed: number) {
  const n = net(seed);
  const rooms = await connect(n, ['e', 'a', 'w']);
  const game = makeWalkGame();
  const logs: string[] = [];
  const c = new SessionCore({ room: rooms[0]!, game, clock: n.clock, log: (m) => logs.push(m) }, n.clock, new Emitter<LockstepEvents>());
  c.admission = new Admission(c);
  c.proposals = new JoinProposals(c);
  c.departures = new Departures(c);
  c.hashing = new HashExchange(c);
  c.relay = new InputRelay(c);
  c.control = new ControlRelay(c);
  c.silent = new SilentMembers(c);
  c.status = 'running';
  c.role = 'spectator';
  c.config = { seed, tickHz: 60, delay: 2, hashEvery: 10 };
  c.gen = generationOf(seed, 'a');
  c.sim = Simulation.start(game, seed, ['a'], 500);
  c.streams.set('a', new InputStream(0));
  c.spectators.add('e');
  c.since.set('a', 0).set('e', 0);
  const join = (atFrame: number): Extract<Control, { kind: typeof Kind.join }> => ({ kind: Kind.join, gen: c.gen, peer: 'w', role: 'spectator', atFrame, ...c.config, members: [] });
  return { c, join, logs };
}

describe('a join of a spectator admission that ended for us', () => {
  it('lists the spectator no more; a later admission of it is listed', async () => {
    const { c, join } = await spectatorCore(622);
    c.admission.onJoin('a', join(510));
    expect([...c.spectators].sort()).toEqual(['e', 'w']);
    c.departures.onLeave({ kind: Kind.leave, gen: c.gen, peer: 'w', since: 510 });
    expect([...c.spectators]).toEqual(['e']);
    // The same join again, relayed late: w left that admission.
    c.admission.onJoin('a', join(510));
    expect([...c.spectators]).toEqual(['e']);
    // w comes back: its next admission is listed, and its leave honoured.
    c.admission.onJoin('a', join(900));
    expect([...c.spectators].sort()).toEqual(['e', 'w']);
    expect(c.since.get('w')).toBe(900);
    // A copy of the join of 510 after the one of 900: an admission before the one we know.
    c.admission.onJoin('a', join(510));
    expect(c.since.get('w')).toBe(900);
    c.departures.onLeave({ kind: Kind.leave, gen: c.gen, peer: 'w', since: 900 });
    expect([...c.spectators]).toEqual(['e']);
    // Nothing was held back to list it again once that one ended.
    c.admission.flushDeferredJoins();
    expect([...c.spectators]).toEqual(['e']);
  });
});
