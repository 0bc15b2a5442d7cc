import { describe, expect, it } from 'vitest';
import { ManualClock, createLockstepSession, createMemoryNetwork, type LockstepSession, type MemoryNetwork, type Room } from '../../src/index.js';
import { makeWalkGame, scriptedButtons, type WalkState } from './games.js';

type Walk = LockstepSession<WalkState, ReturnType<typeof scriptedButtons>>;

interface Scenario {
  seed: number;
  /** Latency of the links from the coordinator `a` to b, c and the joiner e. */
  ab: number;
  ac: number;
  ae: number;
  /** Extra simulated time after e reports 'joining' before a vanishes. */
  vanishAfterMs: number;
}

interface Outcome {
  /** b, c, e as they were at the end (before leaving). */
  status: string[];
  frames: number[];
  players: string[][];
  /** Every survivor's (frame, hash) pairs, by session. */
  hashes: Array<Map<number, number>>;
  desyncs: number;
  /** What the survivors logged, for telling which recovery path a run took. */
  logs: string[];
}

async function connect(net: MemoryNetwork, ids: string[]): Promise<Room[]> {
  const rooms = ids.map((peerId) => net.join('game', { peerId }));
  for (let i = 0; i < 50 && rooms.some((r) => r.peers.size < ids.length - 1); i++) await net.advance(200);
  expect(rooms.map((r) => r.peers.size)).toEqual(ids.map(() => ids.length - 1));
  return rooms;
}

/**
 * The coordinator `a` proposes a join for `e` and vanishes while the proposal is still
 * on its way to some members (a slow a–b link, a fast a–c link). Runs until every
 * survivor has gone 600 frames past the point where the slowest one was, or gives up.
 */
async function coordinatorVanishesDuringJoin(sc: Scenario): Promise<Outcome> {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ seed: sc.seed, clock, latencyMs: 20, jitterMs: 50, loss: 0.05 });
  const rooms = await connect(net, ['a', 'b', 'c']);
  const logs: string[] = [];
  const walk = (room: Room, i: number): Walk => {
    const log = (m: string) => room.selfId !== 'a' && logs.push(`${room.selfId}: ${m}`);
    const s: Walk = createLockstepSession({ room, game: makeWalkGame(), clock, inputDelay: 'auto', log, input: () => scriptedButtons(s.frame, i) }) as Walk;
    return s;
  };
  const sessions = rooms.map(walk);
  const [, b, c] = sessions as [Walk, Walk, Walk];
  let desyncs = 0;
  await net.advance(200);
  b.start({ seed: 21 });
  for (let i = 0; i < 400 && sessions.some((s) => s.frame < 200); i++) await net.advance(50);
  expect(sessions.every((s) => s.frame >= 200)).toBe(true);
  net.setLink('a', 'b', { latencyMs: sc.ab });
  net.setLink('a', 'c', { latencyMs: sc.ac });
  const eRoom = net.join('game', { peerId: 'e' });
  net.setLink('a', 'e', { latencyMs: sc.ae });
  const e = walk(eRoom, 4);
  const survivors = [b, c, e];
  for (const s of survivors) s.on('desync', () => desyncs++);
  for (let i = 0; i < 4000 && e.status !== 'joining'; i++) await net.advance(5);
  expect(e.status).toBe('joining');
  if (sc.vanishAfterMs > 0) await net.advance(sc.vanishAfterMs);
  net.disconnect('a');
  // Everyone must get going again: e admitted (by the next coordinator) and 600 frames more.
  for (let i = 0; i < 1200 && e.status !== 'running'; i++) await net.advance(50);
  const target = Math.max(...survivors.map((s) => s.frame)) + 600;
  for (let i = 0; i < 1200 && survivors.some((s) => s.frame < target); i++) await net.advance(50);
  const hashes = survivors.map((s) => (s.status === 'running' ? new Map(s.recording().hashes) : new Map<number, number>()));
  const outcome = { status: survivors.map((s) => s.status), frames: survivors.map((s) => s.frame), players: survivors.map((s) => [...s.players]), hashes, desyncs, logs };
  for (const s of survivors) s.leave();
  return outcome;
}

/** The survivors agree on the player set, made progress and computed equal hashes. */
function expectAgreement(o: Outcome, label: string): void {
  const frames = o.frames;
  expect({ label, status: o.status, frames }).toEqual({ label, status: ['running', 'running', 'running'], frames });
  expect({ label, players: [...o.players[0]!].sort() }).toEqual({ label, players: ['b', 'c', 'e'] });
  expect({ label, c: o.players[1], e: o.players[2] }).toEqual({ label, c: o.players[0], e: o.players[0] });
  expect({ label, progressed: Math.min(...frames) > 600 }).toEqual({ label, progressed: true });
  let compared = 0;
  for (const [frame, h] of o.hashes[2]!) {
    if (frame > Math.min(...frames)) break;
    for (const r of o.hashes) expect({ label, frame, hash: r.get(frame) }).toEqual({ label, frame, hash: h });
    compared++;
  }
  expect({ label, compared: compared > 20 }).toEqual({ label, compared: true });
  expect({ label, desyncs: o.desyncs }).toEqual({ label, desyncs: 0 });
}

describe('lockstep join while the coordinator vanishes (the join proposal reaches some members only)', () => {
  it('a–b 400 ms, a–c 5 ms, a–e 30 ms, a vanishes as e reports joining: c heard the join and b did not, c cancels it, and b, c and e agree', async () => {
    // The exact moment the proposal is in flight depends on the mesh's timing (heartbeat
    // phases, who offers to whom), so the scenario searches a bounded set of seeds and
    // vanish delays for the run that reaches the bug's case: one member heard the join,
    // the other did not. Seed 17 at 0 ms was the original repro.
    let reached: { label: string; o: Outcome } | undefined;
    search: for (const seed of [17, 18, 19, 20, 21, 22, 23, 24]) {
      for (const vanishAfterMs of [0, 5, 10, 20]) {
        const o = await coordinatorVanishesDuringJoin({ seed, ab: 400, ac: 5, ae: 30, vanishAfterMs });
        const label = `seed ${seed}, vanish after ${vanishAfterMs} ms`;
        expectAgreement(o, label);
        const cancelled = o.logs.filter((l) => /cancelling the join of e/.test(l)).map((l) => l.slice(0, 2));
        if (cancelled.length === 1 && cancelled[0] === 'c:') {
          reached = { label, o };
          break search;
        }
      }
    }
    console.log('partial-knowledge case reached at', reached?.label);
    expect(reached?.label ?? 'no run reached the case where only c heard the join').toMatch(/^seed/);
  }, 300_000);

  it('a sweep of seeds, link latencies and vanish times: survivors always agree and nobody stalls for good', async () => {
    const failures: string[] = [];
    const paths = new Map<string, number>();
    // 40 runs: slow/fast links to b and c (who hears the join first), a slow or fast joiner,
    // and a vanishing before the join reaches anyone up to after the join frame.
    for (let k = 0; k < 40; k++) {
      const sc: Scenario = {
        seed: 100 + k,
        ab: [400, 250, 120, 5][k % 4]!,
        ac: [5, 60, 300][k % 3]!,
        ae: [30, 5, 150][(k >> 1) % 3]!,
        vanishAfterMs: [0, 10, 40, 90, 150, 250, 400, 700][(k >> 2) % 8]!,
      };
      const label = JSON.stringify(sc);
      try {
        const o = await coordinatorVanishesDuringJoin(sc);
        for (const [path, re] of [['cancelled', /cancelling the join/], ['join refused (proposer leaving)', /its proposer a is leaving/], ['joiner: snapshot never came', /^e: back to the lobby: a, who admitted/], ['joiner: cancelled after its snapshot', /^e: back to the lobby: our join .* was cancelled/], ['joiner refused a stale admission', /^e: refusing admission/]] as const) {
          if (o.logs.some((l) => re.test(l))) paths.set(path, (paths.get(path) ?? 0) + 1);
        }
        expectAgreement(o, label);
      } catch (err) {
        failures.push(`${label}: ${(err as Error).message.split('\n').slice(0, 12).join(' ')}`);
      }
    }
    expect(failures).toEqual([]);
    // The sweep does reach the partial-knowledge case, not only clean failovers.
    expect(paths.get('cancelled') ?? 0).toBeGreaterThan(3);
    console.log('recovery paths taken in the sweep:', Object.fromEntries(paths));
  }, 600_000);
});
