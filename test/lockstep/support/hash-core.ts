/** A session core with its HashExchange alone over an in-memory room, for hash tests. */
import { type LockstepEvents } from '../../../src/index.js';
import { ControlRelay } from '../../../src/lockstep/control-relay.js';
import { HashExchange } from '../../../src/lockstep/hash-exchange.js';
import { InputRelay } from '../../../src/lockstep/input-relay.js';
import { SessionCore } from '../../../src/lockstep/session-core.js';
import { Simulation } from '../../../src/lockstep/simulation.js';
import { generationOf } from '../../../src/lockstep/wire.js';
import { Emitter } from '../../../src/util/emitter.js';
import { makeWalkGame } from '../games.js';
import { connect, net } from './memory-sessions.js';

/** Peer a's session core (running at `frame` the game `starter` started, b a spectator member) and its HashExchange (and the InputRelay and ControlRelay it asks); b is a plain room peer. */
export async function coreOfA(seed: number, frame: number, starter = 'a') {
  const n = net(seed);
  const rooms = await connect(n, ['a', 'b']);
  const logs: string[] = [];
  const game = makeWalkGame();
  const c = new SessionCore({ room: rooms[0]!, game, clock: n.clock, log: (m) => logs.push(m) }, n.clock, new Emitter<LockstepEvents>());
  const hashing = (c.hashing = new HashExchange(c));
  c.relay = new InputRelay(c);
  c.control = new ControlRelay(c);
  c.status = 'running';
  c.config = { seed, tickHz: 60, delay: 2, hashEvery: 10 };
  c.gen = generationOf(seed, starter);
  c.sim = Simulation.start(game, seed, ['a'], frame);
  c.spectators.add('b');
  c.since.set('a', 0).set('b', 0);
  const desyncs: number[] = [];
  c.events.on('desync', (d) => desyncs.push(d.frame));
  return { n, rooms, c, hashing, logs, desyncs };
}
