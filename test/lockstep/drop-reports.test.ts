/**
 * The coordinator's drop agreements against reports from outside the game. Anyone in the
 * room can send a `report` naming any admission; one from a non-member is only a request
 * to be told the decision, so it must not let the coordinator's memory grow without bound,
 * nor push out an agreement the players are still making. The same for `leave`s a peer
 * outside the game sends about itself: kept for a join still on its way, but bounded per
 * peer so they cannot push out another's.
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

/** Coordinator a's session core, running at frame 100 with players a and b; x is in the room, not in the game. */
async function coordinatorCore(seed: number) {
  const n = net(seed);
  const rooms = await connect(n, ['a', 'b', 'x']);
  const game = makeWalkGame();
  const logs: string[] = [];
  const c = new SessionCore({ room: rooms[0]!, game, clock: n.clock, log: (m) => logs.push(m) }, n.clock, new Emitter<LockstepEvents>());
  const departures = (c.departures = new Departures(c));
  c.status = 'running';
  c.config = { seed, tickHz: 60, delay: 2, hashEvery: 10 };
  c.gen = generationOf(seed, 'a');
  c.sim = Simulation.start(game, seed, ['a', 'b'], 100);
  for (const p of ['a', 'b']) c.streams.set(p, new InputStream(0));
  return { c, departures, logs };
}

describe('drop reports from outside the game', () => {
  it('a flood of reports on made-up admissions keeps the agreements bounded and the players\' pending one', async () => {
    const { c, departures } = await coordinatorCore(95);
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

  it("after a flood, a player's report on a second leaver does not push out the first drop the players are agreeing", async () => {
    // Two players leave at once (two friends on one network); x floods reports meanwhile.
    const { c, departures } = await coordinatorCore(96);
    departures.onReport('b', { kind: Kind.report, gen: c.gen, leaver: 'first', since: 7, next: 90, base: 90, inputs: [] });
    for (let i = 0; i < 5000; i++) departures.onReport('x', { kind: Kind.report, gen: c.gen, leaver: `ghost-${i}`, since: i, next: 1, base: 1, inputs: [] });
    // The requests are now newer than 'first': oldest-first eviction took 'first' here, and
    // its drop could never be decided (b does not report twice to the same coordinator).
    departures.onReport('b', { kind: Kind.report, gen: c.gen, leaver: 'second', since: 9, next: 95, base: 95, inputs: [] });
    expect(c.agreements.get(admissionKey('first', 7))?.reports.has('b')).toBe(true);
    expect(c.agreements.get(admissionKey('second', 9))?.reports.has('b')).toBe(true);
    expect(c.agreements.size).toBeLessThanOrEqual(KEEP_ADMISSION_RECORDS);
  });
});

describe('leaves from outside the game', () => {
  it("a peer's leaves naming itself are kept a few at most, so a flood of them keeps another joiner's early leave", async () => {
    // A member keeps a leave about an admission it has not heard of (the joiner refused its
    // join, or lost its coordinator): the join may still be on its way. Any peer of the room
    // may send leaves naming itself and made-up admissions.
    const { c, departures } = await coordinatorCore(97);
    departures.onLeave({ kind: Kind.leave, gen: c.gen, peer: 'j', since: 200 });
    for (let i = 0; i < 5000; i++) departures.onLeave({ kind: Kind.leave, gen: c.gen, peer: 'x', since: i });
    expect(c.earlyLeaves.has(admissionKey('j', 200))).toBe(true);
    expect([...c.earlyLeaves].filter((k) => k.startsWith('x\u0000')).length).toBeLessThanOrEqual(4);
    // The newest of x's are kept: its own admission's leave, should it be real, is among them.
    expect(c.earlyLeaves.has(admissionKey('x', 4999))).toBe(true);
  });
});
