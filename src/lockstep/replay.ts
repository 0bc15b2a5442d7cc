/**
 * Replays: a session records its seed, players, every frame's inputs and joins/leaves,
 * and the hashes it computed; `playReplay` steps the same frames from the same start
 * and checks every recorded hash.
 */
import type { PeerId } from '../mesh/types.js';
import { MeshpartyError } from '../util/errors.js';
import { ByteLog } from './byte-log.js';
import { ByteReader, ByteWriter } from './bytes.js';
import type { Game } from './game.js';
import { Simulation, type SteppedFrame } from './simulation.js';

/**
 * One recorded frame: inputs in the order of the players active at it.
 *
 * @example
 * ```ts
 * const fired = rec.frames.filter((f: RecordedFrame) => f.inputs.some((bytes) => game.input.decode(bytes).fire)).length;
 * ```
 */
export interface RecordedFrame {
  readonly inputs: readonly Uint8Array[];
  readonly joined: readonly PeerId[];
  readonly left: readonly PeerId[];
}

/**
 * Everything needed to play a session again.
 *
 * @example
 * ```ts
 * const rec: Recording = session.recording();
 * console.log(`${rec.game}: ${rec.frames.length} frames from ${rec.startFrame}, ${rec.hashes.length} hashes`);
 * ```
 */
export interface Recording {
  readonly game: string;
  readonly seed: number;
  /** Frame of the first recorded step. */
  readonly startFrame: number;
  /** Players active at `startFrame`, in order. */
  readonly players: readonly PeerId[];
  /** Serialized state at `startFrame` when the recording began from a snapshot (late join). */
  readonly snapshot?: Uint8Array;
  readonly frames: readonly RecordedFrame[];
  /** [frame, hash] pairs the recording peer computed (state at that frame). */
  readonly hashes: ReadonlyArray<readonly [number, number]>;
}

/**
 * Builds a {@link Recording} from a simulation's steps (the session uses one; use it
 * directly to record a local or single-player simulation).
 *
 * @example
 * ```ts
 * const rec = new Recorder({ game: game.name, seed, startFrame: 0, players });
 * const sim = Simulation.start(game, seed, players, 0, (f) => rec.step(f));
 * sim.advance(inputs); rec.hash(sim.frame, sim.hash());
 * save(encodeRecording(rec.recording()));
 * ```
 */
export class Recorder {
  /**
   * Each step as {@link encodeRecording} writes a frame: a few bytes per frame and player.
   * Kept as the objects handed in (the frame, its arrays, each input a Uint8Array with a
   * buffer of its own), a frame cost some 700 bytes: a game left running for a day held
   * gigabytes.
   */
  #frames = new ByteLog(readFrame);
  /** [frame, hash] pairs as varint and u32. */
  #hashes = new ByteLog((r) => [r.varint(), r.u32()] as const);

  constructor(
    private readonly start: { game: string; seed: number; startFrame: number; players: readonly PeerId[]; snapshot?: Uint8Array },
  ) {}

  /**
   * The frames recorded so far. Cheap to read every frame: each read decodes only the
   * frames recorded since the previous read, and returns the same array, extended (so an
   * array read before grows too: copy it, `[...rec.frames]`, to keep it as it was). Shared
   * with the recorder: never mutate it or its frames; take {@link Recorder.recording} for
   * copies of your own. The first read makes the recorder keep the decoded frames (some
   * 300 bytes a frame beside its few bytes), so that later reads need not decode them again;
   * a recorder whose `frames` is never read keeps only the bytes.
   *
   * @example
   * ```ts
   * sim.advance(inputs);
   * hud.textContent = `${rec.frames.length} frames recorded`; // decodes this frame only
   * ```
   */
  get frames(): readonly RecordedFrame[] {
    return this.#frames.list();
  }

  /** The [frame, hash] pairs recorded so far: read like {@link Recorder.frames} (the same array, extended; never mutate it). */
  get hashes(): ReadonlyArray<readonly [number, number]> {
    return this.#hashes.list();
  }

  step(f: SteppedFrame): void {
    const w = new ByteWriter(32);
    writeFrame(w, f);
    this.#frames.append(w.finish());
  }

  hash(frame: number, hash: number): void {
    this.#hashes.append(new ByteWriter(16).varint(frame).u32(hash >>> 0).finish());
  }

  /** Everything recorded, as copies that share nothing with the recorder: decodes every frame (call it to save or replay, not every frame). */
  recording(): Recording {
    return { ...this.start, players: [...this.start.players], frames: this.#frames.copies(), hashes: this.#hashes.copies() };
  }
}

/** Frames read for {@link Recorder.frames} share these instead of an empty array each (most frames join and leave nobody). */
const NOBODY: readonly PeerId[] = Object.freeze([]);

/** One frame as a recording's bytes hold it: joins, leaves, then each input. */
function writeFrame(w: ByteWriter, f: RecordedFrame): void {
  w.varint(f.joined.length);
  for (const p of f.joined) w.string(p);
  w.varint(f.left.length);
  for (const p of f.left) w.string(p);
  w.varint(f.inputs.length);
  for (const i of f.inputs) w.bytes(i);
}

/**
 * Read what {@link writeFrame} wrote. With `copy` (a recording's frames) the inputs are
 * copies and the arrays new: a recording shares no buffer. Without (the recorder's own
 * list) inputs are views of the bytes read and empty lists are shared, which halves what
 * a decoded frame costs.
 */
function readFrame(r: ByteReader, copy = true): RecordedFrame {
  const strings = () => {
    const n = r.varint();
    return n === 0 && !copy ? NOBODY : Array.from({ length: n }, () => r.string());
  };
  const joined = strings();
  const left = strings();
  const inputs = Array.from({ length: r.varint() }, () => (copy ? r.bytes().slice() : r.bytes()));
  return { joined, left, inputs };
}

/**
 * What a replay reproduced.
 *
 * @example
 * ```ts
 * const { frame, checked, mismatches }: ReplayResult<State> = playReplay(game, rec);
 * console.log(`replayed to ${frame}, ${checked} hashes checked, ${mismatches.length} differ`);
 * ```
 */
export interface ReplayResult<S> {
  /** Frame after the last step. */
  readonly frame: number;
  readonly state: S;
  /** Hashes checked against the recording. */
  readonly checked: number;
  /** Recorded hashes that came out different (empty when the replay is faithful). */
  readonly mismatches: ReadonlyArray<{ frame: number; recorded: number; replayed: number }>;
}

/**
 * Step every recorded frame and compare every recorded hash. Throws a MeshpartyError
 * `wrong-game` for a recording of another game (its `game` is not `game.name`).
 *
 * @example
 * ```ts
 * const result = playReplay(lightCycles, session.recording());
 * if (result.mismatches.length) console.error('not deterministic', result.mismatches[0]);
 * ```
 */
export function playReplay<S, I>(game: Game<S, I>, rec: Recording, onFrame?: (frame: number, state: S) => void): ReplayResult<S> {
  if (rec.game !== game.name) throw new MeshpartyError('wrong-game', `recording is of ${rec.game}, not ${game.name}`);
  const sim = rec.snapshot
    ? new Simulation(game, game.deserialize(rec.snapshot), rec.startFrame, rec.players)
    : Simulation.start(game, rec.seed, rec.players, rec.startFrame);
  const want = new Map(rec.hashes.map(([f, h]) => [f, h]));
  const mismatches: Array<{ frame: number; recorded: number; replayed: number }> = [];
  let checked = 0;
  const check = () => {
    const recorded = want.get(sim.frame);
    if (recorded === undefined) return;
    checked++;
    const replayed = sim.hash();
    if (replayed !== recorded) mismatches.push({ frame: sim.frame, recorded, replayed });
  };
  check();
  for (const f of rec.frames) {
    const players = sim.playersAfter(f.joined, f.left);
    if (players.length !== f.inputs.length) throw new MeshpartyError('bad-recording', `frame ${sim.frame}: ${f.inputs.length} inputs for ${players.length} players`);
    sim.advance(new Map(players.map((p, i) => [p, f.inputs[i]!])), f.joined, f.left);
    onFrame?.(sim.frame, sim.state);
    check();
  }
  return { frame: sim.frame, state: sim.state, checked, mismatches };
}

const MAGIC = 0x4d50524c; // "MPRL"

/**
 * Encode a recording as compact bytes (to save or share a replay).
 *
 * @example
 * ```ts
 * const bytes = encodeRecording(session.recording());
 * const again = decodeRecording(bytes);
 * ```
 */
export function encodeRecording(rec: Recording): Uint8Array {
  const w = new ByteWriter(1024).u32(MAGIC).u8(1).string(rec.game).u32(rec.seed >>> 0).varint(rec.startFrame);
  w.varint(rec.players.length);
  for (const p of rec.players) w.string(p);
  w.u8(rec.snapshot ? 1 : 0);
  if (rec.snapshot) w.bytes(rec.snapshot);
  w.varint(rec.frames.length);
  for (const f of rec.frames) writeFrame(w, f);
  w.varint(rec.hashes.length);
  for (const [f, h] of rec.hashes) w.varint(f).u32(h);
  return w.finish();
}

/**
 * Decode {@link encodeRecording}'s bytes; throws MeshpartyError `bad-recording`.
 *
 * @example
 * ```ts
 * const result = playReplay(lightCycles, decodeRecording(await file.bytes()));
 * ```
 */
export function decodeRecording(bytes: Uint8Array): Recording {
  try {
    const r = new ByteReader(bytes);
    if (r.u32() !== MAGIC || r.u8() !== 1) throw new Error('not a meshparty recording');
    const game = r.string();
    const seed = r.u32();
    const startFrame = r.varint();
    const strings = () => Array.from({ length: r.varint() }, () => r.string());
    const players = strings();
    const snapshot = r.u8() === 1 ? r.bytes().slice() : undefined;
    const frames = Array.from({ length: r.varint() }, () => readFrame(r, true));
    const hashes = Array.from({ length: r.varint() }, () => [r.varint(), r.u32()] as const);
    r.end();
    return { game, seed, startFrame, players, ...(snapshot ? { snapshot } : {}), frames, hashes };
  } catch (err) {
    throw new MeshpartyError('bad-recording', `cannot decode recording: ${(err as Error).message}`);
  }
}
