/**
 * A recording can be capped (maxFrames, maxBytes): it used to grow without bound (about
 * 40 MB a day of play). At the cap it stops and says so (`truncated`); a replay of it is
 * exact as far as it goes and reports that it is partial.
 */
import { describe, expect, it } from 'vitest';
import {
  createLockstepSession, decodeRecording, encodeRecording, playReplay, Recorder, Simulation,
  type LockstepSessionOptions, type Recording, type RecordingLimits,
} from '../../src/index.js';
import { buttons, makeWalkGame, scriptedButtons } from './games.js';
import { advanceUntil, connect, net } from './support/memory-sessions.js';

/** 300 frames of the walk game (c joins at 100, a leaves at 200), hashed every 10 frames. */
function play(limits?: RecordingLimits): { rec: Recorder; hashAt: Map<number, number> } {
  const game = makeWalkGame();
  const rec = new Recorder({ game: game.name, seed: 11, startFrame: 0, players: ['a', 'b'] }, limits);
  const sim = Simulation.start(game, 11, ['a', 'b'], 0, (f) => rec.step(f));
  const hashAt = new Map<number, number>();
  for (let f = 0; f < 300; f++) {
    const joined = f === 100 ? ['c'] : [];
    const left = f === 200 ? ['a'] : [];
    const ps = sim.playersAfter(joined, left);
    sim.advance(new Map(ps.map((p, i) => [p, buttons.encode(scriptedButtons(f, i))])), joined, left);
    hashAt.set(sim.frame, sim.hash());
    if (sim.frame % 10 === 0) rec.hash(sim.frame, sim.hash());
  }
  return { rec, hashAt };
}

/** Frame `f` of two players with one-byte inputs: 7 bytes (3 counts, 2 × (length + byte)). */
const tiny = (f: number) => ({ frame: f, players: ['a', 'b'], inputs: [Uint8Array.of(f & 0xff), Uint8Array.of(1)], joined: [], left: [] });

describe('recording limits', () => {
  it('maxFrames: stops at the cap, keeps only hashes of recorded frames, and replays exactly as far as it goes, saying it is partial', () => {
    const full = play().rec.recording();
    const { rec, hashAt } = play({ maxFrames: 150 });
    expect(rec.truncated).toBe('max-frames');
    const cut = rec.recording();
    expect(cut.truncated).toBe('max-frames');
    expect(cut.frames).toEqual(full.frames.slice(0, 150));
    expect(cut.hashes).toEqual(full.hashes.filter(([f]) => f <= 150));
    expect(rec.frames.length).toBe(150);

    const again = decodeRecording(encodeRecording(cut));
    expect(again).toEqual(cut);
    const replay = playReplay(makeWalkGame(), again);
    expect(replay).toMatchObject({ frame: 150, checked: 15, mismatches: [], truncated: 'max-frames' });
    expect(makeWalkGame().hash(replay.state)).toBe(hashAt.get(150));
    // A complete recording says nothing of the kind.
    expect(full.truncated).toBeUndefined();
    expect(playReplay(makeWalkGame(), full)).not.toHaveProperty('truncated');
  });

  it('maxFrames: a recording that reaches its cap with nothing more to record is whole', () => {
    const rec = new Recorder({ game: 'walk', seed: 1, startFrame: 0, players: ['a', 'b'] }, { maxFrames: 3 });
    for (let f = 0; f < 3; f++) rec.step(tiny(f));
    expect(rec.truncated).toBeUndefined();
    rec.step(tiny(3));
    expect(rec.truncated).toBe('max-frames');
    expect(rec.recording().frames.length).toBe(3);
  });

  it('maxBytes: stops before the frame or hash that would pass it, and never records a later one', () => {
    const rec = new Recorder({ game: 'walk', seed: 1, startFrame: 0, players: ['a', 'b'] }, { maxBytes: 100 });
    for (let f = 0; f < 14; f++) rec.step(tiny(f)); // 98 bytes
    expect(rec.truncated).toBeUndefined();
    rec.hash(14, 1); // 5 bytes: 103 > 100
    expect(rec.truncated).toBe('max-bytes');
    rec.step({ ...tiny(14), inputs: [], players: [] }); // 3 bytes would fit: the recording stopped all the same
    rec.hash(14, 2);
    const cut = rec.recording();
    expect(cut).toMatchObject({ truncated: 'max-bytes', hashes: [] });
    expect(cut.frames.length).toBe(14);
    expect(decodeRecording(encodeRecording(cut)).truncated).toBe('max-bytes');
  });

  it('a complete recording is still written as format 1 (older versions read it), a truncated one as format 2', () => {
    const whole = play().rec.recording();
    const cut = play({ maxBytes: 0 }).rec.recording();
    expect(cut).toMatchObject({ frames: [], hashes: [], truncated: 'max-bytes' });
    expect(encodeRecording(whole)[4]).toBe(1);
    const bytes = encodeRecording(cut);
    expect([bytes[4], bytes[5]]).toEqual([2, 2]);
    bytes[5] = 9; // no such cap
    expect(() => decodeRecording(bytes)).toThrow(expect.objectContaining({ code: 'bad-recording' }));
    expect(() => encodeRecording({ ...whole, truncated: 'max-hours' } as unknown as Recording)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });

  it('refuses a limit that is not a whole number ≥ 0 with bad-argument, naming it', () => {
    const start = { game: 'walk', seed: 1, startFrame: 0, players: ['a'] };
    for (const [limits, option] of [
      [{ maxFrames: -1 }, 'maxFrames'], [{ maxFrames: 1.5 }, 'maxFrames'], [{ maxFrames: Number.NaN }, 'maxFrames'],
      [{ maxFrames: Number.POSITIVE_INFINITY }, 'maxFrames'], [{ maxFrames: '10' }, 'maxFrames'], [{ maxBytes: -5 }, 'maxBytes'],
      [null, 'limits'], [5, 'limits'],
    ] as const) {
      expect(() => new Recorder(start, limits as never), JSON.stringify(limits)).toThrow(expect.objectContaining({ code: 'bad-argument', detail: { option } }));
    }
    expect(new Recorder(start, { maxFrames: 0, maxBytes: Number.MAX_SAFE_INTEGER }).truncated).toBeUndefined();
  });

  it('a session with a recording cap: its recording stops there and replays, the game plays on; a bad cap is refused at creation', async () => {
    const n = net(3);
    const [ra, rb, rc] = await connect(n, ['a', 'b', 'c']);
    const opts = (room: typeof ra, index: number, recording?: RecordingLimits): LockstepSessionOptions<never, never> =>
      ({ room: room!, game: makeWalkGame(), clock: n.clock, log: () => {}, input: () => scriptedButtons(0, index), ...(recording ? { recording } : {}) }) as never;
    for (const [recording, option] of [[{ maxFrames: -1 }, 'recording.maxFrames'], [{ maxBytes: 0.5 }, 'recording.maxBytes'], [7, 'recording']] as const) {
      expect(() => createLockstepSession(opts(ra, 0, recording as never))).toThrow(expect.objectContaining({ code: 'bad-argument', detail: { option } }));
    }
    const a = createLockstepSession(opts(ra, 0, { maxFrames: 60 }));
    const b = createLockstepSession(opts(rb, 1));
    await n.advance(200);
    a.start({ seed: 9 });
    await advanceUntil(n, () => a.frame >= 200 && b.frame >= 200, 10_000);
    expect(a.frame).toBeGreaterThanOrEqual(200); // played on past its recording's cap
    const [cut, whole] = [a.recording(), b.recording()];
    expect(cut.truncated).toBe('max-frames');
    expect(cut.frames).toEqual(whole.frames.slice(0, 60));
    expect(whole.truncated).toBeUndefined();
    const replay = playReplay(makeWalkGame(), cut);
    expect(replay).toMatchObject({ frame: cut.startFrame + 60, mismatches: [], truncated: 'max-frames' });
    expect(replay.checked).toBe(cut.hashes.length);
    expect(replay.checked).toBeGreaterThan(0);

    // A late joiner's recording, from its snapshot, is capped alike.
    const c = createLockstepSession(opts(rc, 2, { maxFrames: 30 }));
    await advanceUntil(n, () => c.status === 'running' && c.frame >= c.recording().startFrame + 100, 20_000);
    const joined = c.recording();
    expect(joined).toMatchObject({ truncated: 'max-frames', snapshot: expect.any(Uint8Array) });
    expect(joined.frames.length).toBe(30);
    expect(playReplay(makeWalkGame(), joined)).toMatchObject({ frame: joined.startFrame + 30, mismatches: [], truncated: 'max-frames' });
    for (const s of [a, b, c]) s.leave();
  });
});
