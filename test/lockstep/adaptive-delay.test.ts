import { describe, expect, it } from 'vitest';
import { createLockstepSession, playReplay, type MemoryNetwork, type PeerId } from '../../src/index.js';
import { makeWalkGame } from './games.js';
import { LOWER_AFTER_MS } from '../../src/lockstep/input-delay.js';
import { advanceUntil, connect, expectAgreement, net, type Walk } from './support/memory-sessions.js';
import { begin, player, record, threePlayers } from './support/adaptive-players.js';

/** Every link between `ids` gets this one-way latency (and jitter). */
function setLatency(n: MemoryNetwork, ids: readonly PeerId[], latencyMs: number, jitterMs = 0): void {
  for (const a of ids) for (const b of ids) if (a < b) n.setLink(a, b, { latencyMs, jitterMs, loss: 0 });
}

const stallsBetween = (stalls: Array<Array<{ at: number }>>, from: number, to: number) => stalls.flat().filter((s) => s.at >= from && s.at < to).length;

describe("inputDelay 'auto' adapts during the game", () => {
  it('latency rising mid-game raises every player\'s delay and the stalls stop; all agree throughout and a replay reproduces the game', async () => {
    const { n, ids, ps, delays, stalls, desyncs } = await threePlayers(61, 'auto');
    // 20 ms one-way: ceil(40 / 2 / 16.7) + 2 = 4 frames, as at the start.
    expect(ps.map((s) => s.inputDelay)).toEqual([4, 4, 4]);
    expect(stallsBetween(stalls, 1500, n.clock.now())).toBe(0);

    setLatency(n, ids, 120); // RTT 240 ms: ceil(120 / 16.7) + 2 = 10 frames are needed
    const rose = n.clock.now();
    await n.advance(12_000);
    for (const s of ps) expect(s.inputDelay).toBeGreaterThanOrEqual(10);
    for (const list of delays) {
      // Up one frame at a time, never down while the latency stays high.
      expect(list.every((e) => e.delay === e.previous + 1)).toBe(true);
    }
    const early = stallsBetween(stalls, rose, rose + 2000);
    const late = stallsBetween(stalls, rose + 6000, rose + 12_000);
    expect(early).toBeGreaterThan(0); // the rise did make them wait at first
    expect(late).toBe(0); // ... and no longer once the delays had caught up
    // Full speed again: 60 frames a second, every peer within a frame or two of the others.
    const f0 = ps[0]!.frame;
    await n.advance(5000);
    expect(ps[0]!.frame - f0).toBeGreaterThanOrEqual(295);
    expect(ps[0]!.frame - f0).toBeLessThanOrEqual(305);
    // Time sync reads the players' new delays (their hashes carry them): nobody seems far ahead or behind.
    for (const s of ps) expect(Math.abs(s.stats().frameAdvantage)).toBeLessThan(2);
    expect(Math.max(...ps.map((s) => s.frame)) - Math.min(...ps.map((s) => s.frame))).toBeLessThanOrEqual(3);

    const end = Math.min(...ps.map((s) => s.frame));
    expect(expectAgreement(ps, 0, end)).toBeGreaterThan(100);
    expect(desyncs.flat()).toEqual([]);
    const recordings = ps.map((s) => s.recording());
    const upTo = (r: (typeof recordings)[number]) => ({ hashes: r.hashes.filter(([f]) => f <= end), frames: r.frames.slice(0, end - r.startFrame) });
    for (const r of recordings.slice(1)) expect(upTo(r)).toEqual(upTo(recordings[0]!));
    const replay = playReplay(makeWalkGame(), recordings[1]!);
    expect(replay.mismatches).toEqual([]);
    expect(replay.checked).toBe(recordings[1]!.hashes.length);
    for (const s of ps) s.leave();
  }, 60_000);

  it('a fixed delay stays fixed: the same rise keeps it stalling', async () => {
    const { n, ids, ps, delays, stalls } = await threePlayers(61, 4);
    setLatency(n, ids, 120);
    const rose = n.clock.now();
    await n.advance(12_000);
    expect(ps.map((s) => s.inputDelay)).toEqual([4, 4, 4]);
    expect(delays.flat()).toEqual([]);
    expect(stallsBetween(stalls, rose + 6000, rose + 12_000)).toBeGreaterThan(100);
    for (const s of ps) s.leave();
  }, 60_000);

  it('latency falling lowers the delay slowly, one frame at a time, with no desync; the replay reproduces the game', async () => {
    const { n, ids, ps, delays, stalls, desyncs } = await threePlayers(62, 'auto');
    setLatency(n, ids, 120);
    await n.advance(12_000);
    const high = ps.map((s) => s.inputDelay);
    for (const d of high) expect(d).toBeGreaterThanOrEqual(10);

    setLatency(n, ids, 20);
    const fell = n.clock.now();
    // Not at once: the smoothed RTT comes down over a few heartbeats, then what is needed must stay low for 3 s.
    await n.advance(LOWER_AFTER_MS);
    expect(ps.map((s) => s.inputDelay)).toEqual(high);
    await advanceUntil(n, () => ps.every((s) => s.inputDelay === 4), 180_000, 500);
    expect(ps.map((s) => s.inputDelay)).toEqual([4, 4, 4]);
    for (const list of delays) {
      const down = list.filter((e) => e.at >= fell);
      expect(down.length).toBeGreaterThan(0);
      expect(down.every((e) => e.delay === e.previous - 1)).toBe(true);
      // Each frame down waited its LOWER_AFTER_MS.
      for (let i = 1; i < down.length; i++) expect(down[i]!.at - down[i - 1]!.at).toBeGreaterThanOrEqual(LOWER_AFTER_MS);
    }
    // Lowering made nobody wait.
    expect(stallsBetween(stalls, fell, n.clock.now())).toBe(0);
    await n.advance(2000);
    expect(ps.map((s) => s.inputDelay)).toEqual([4, 4, 4]); // and it stays there

    const end = Math.min(...ps.map((s) => s.frame));
    expect(expectAgreement(ps, 0, end)).toBeGreaterThan(100);
    expect(desyncs.flat()).toEqual([]);
    const recording = ps[2]!.recording();
    const replay = playReplay(makeWalkGame(), recording);
    expect(replay.mismatches).toEqual([]);
    expect(replay.checked).toBe(recording.hashes.length);
    for (const s of ps) s.leave();
  }, 120_000);

  it('a spectator, a late joiner and a leaver while the delays change: everyone stays in agreement, the joiner adapts too', async () => {
    const n = net(63);
    const rooms = await connect(n, ['a', 'b', 'c', 'w']);
    const [a, b, c] = rooms.slice(0, 3).map((r, i) => player(r, n, i, 'auto')) as [Walk, Walk, Walk];
    const w = createLockstepSession({ room: rooms[3]!, game: makeWalkGame(), clock: n.clock, inputDelay: 'auto', spectator: true, log: () => {} }) as Walk;
    const all = [a, b, c, w];
    const { delays, desyncs } = await begin(n, all);
    setLatency(n, ['a', 'b', 'c', 'w', 'd'], 90);
    await n.advance(1500); // the delays are on their way up
    const dRoom = n.join('game', { peerId: 'd' });
    const d = player(dRoom, n, 3, 'auto');
    const dDelays = record([d], 'input-delay', n)[0]!;
    const dDesyncs = record([d], 'desync', n)[0]!;
    await advanceUntil(n, () => d.status === 'running' && d.players.includes('d'), 20_000);
    expect([...d.players].sort()).toEqual(['a', 'b', 'c', 'd']);
    await n.advance(3000);
    c.leave();
    await n.advance(8000);
    const stay = [a, b, d, w];
    expect(stay.map((s) => s.status)).toEqual(['running', 'running', 'running', 'running']);
    expect(stay.map((s) => [...s.players].sort())).toEqual(stay.map(() => ['a', 'b', 'd']));
    // The players raised their delays (RTT 180 ms needs 8 frames); the spectator has no inputs to delay.
    for (const s of [a, b, d]) expect(s.inputDelay).toBeGreaterThanOrEqual(8);
    expect(w.inputDelay).toBe(w.stats().inputDelay);
    expect(delays[3]).toEqual([]);
    expect(dDelays.length).toBeGreaterThan(0);
    const end = Math.min(...stay.map((s) => s.frame));
    // From d's join frame on, all four computed the same states.
    const since = d.recording().startFrame;
    expect(expectAgreement(stay, since, end)).toBeGreaterThan(20);
    expect(expectAgreement([a, b, w], 0, end)).toBeGreaterThan(50);
    expect([...desyncs.flat(), ...dDesyncs]).toEqual([]);
    // A joiner's recording starts from its snapshot and replays like any other.
    for (const s of [d, w]) {
      const replay = playReplay(makeWalkGame(), s.recording());
      expect(replay.mismatches).toEqual([]);
    }
    for (const s of stay) s.leave();
  }, 60_000);

  it('jitter and loss do not make the delay go up and down', async () => {
    const n = net(64, { latencyMs: 25, jitterMs: 50, loss: 0.05 });
    const ids = ['a', 'b', 'c', 'd'];
    const rooms = await connect(n, ids);
    const { ps, delays, desyncs } = await begin(n, rooms.map((r, i) => player(r, n, i, 'auto')));
    await n.advance(60_000);
    // At most a settling step or two each at the start, then it holds.
    for (const list of delays) expect(list.filter((e) => e.at > 20_000)).toEqual([]);
    expect(delays.flat().length).toBeLessThanOrEqual(8);
    expect(desyncs.flat()).toEqual([]);
    const end = Math.min(...ps.map((s) => s.frame));
    expect(end).toBeGreaterThan(3500); // ~60 frames a second
    expect(expectAgreement(ps, 0, end)).toBeGreaterThan(300);
    for (const s of ps) s.leave();
  }, 60_000);
});
