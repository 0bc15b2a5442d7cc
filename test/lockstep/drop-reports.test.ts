/**
 * The coordinator's drop agreements against reports from outside the game. Anyone in the
 * room can send a `report` naming any admission; one from a non-member is only a request
 * to be told the decision, so it must not let the coordinator's memory grow without bound,
 * nor push out an agreement the players are still making.
 */
import { describe, expect, it } from 'vitest';
import { type LockstepEvents } from '../../src/index.js';
import { Departures } from '../../src/lockstep/departures.js';
import { InputStream } from '../../src/lockstep/input-stream.js';
import { KEEP_ADMISSION_RECORDS, SessionCore, admissionKey } from '../../src/lockstep/session-core.js';
import { Simulation } from '../../src/lockstep/simulation.js';
import { Kind, generationOf } from '../../src/lockstep/wire.js';
import { Emitter } from '../../src/util/emitter.js';
import { makeWalkGame } from './games.js';
import { connect, net } from './support/memory-sessions.js';

describe('drop reports from outside the game', () => {
  it('a flood of reports on made-up admissions keeps the agreements bounded and the players\' pending one', async () => {
    const seed = 95;
    const n = net(seed);
    const rooms = await connect(n, ['a', 'b', 'x']);
    const game = makeWalkGame();
    const logs: string[] = [];
    const c = new SessionCore({ room: rooms[0]!, game, clock: n.clock, log: (m) => logs.push(m) }, n.clock, new Emitter<LockstepEvents>());
    const departures = (c.departures = new Departures(c));
    c.status = 'running';
    c.config = { seed, tickHz: 60, delay: 2, hashEvery: 10 };
    c.gen = generationOf(seed);
    c.sim = Simulation.start(game, seed, ['a', 'b'], 100);
    for (const p of ['a', 'b']) c.streams.set(p, new InputStream(0));
    // Player b reports on a leaver whose admission a has not heard of yet: the agreement waits.
    departures.onReport('b', { kind: Kind.report, gen: c.gen, leaver: 'late', since: 7, next: 90, base: 90, inputs: [] });
    expect(c.agreements.get(admissionKey('late', 7))?.reports.has('b')).toBe(true);

    // x, in the room but not in the game, sends 5000 reports on admissions nobody has.
    for (let i = 0; i < 5000; i++) departures.onReport('x', { kind: Kind.report, gen: c.gen, leaver: `ghost-${i}`, since: i, next: 1, base: 1, inputs: [] });
    expect(c.agreements.size).toBeLessThanOrEqual(KEEP_ADMISSION_RECORDS + 1);
    expect(c.agreements.get(admissionKey('late', 7))?.reports.has('b')).toBe(true);
    // The newest requests are the ones kept, so x still hears about those.
    expect(c.agreements.get(admissionKey('ghost-4999', 4999))?.listeners.has('x')).toBe(true);
  });
});
