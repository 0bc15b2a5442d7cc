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
import { checkRecordingLimits, type RecordingLimits, type RecordingTruncation } from './recording-limits.js';
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
  /**
   * Present when the recording stopped at a {@link RecordingLimits} cap before its game
   * did: the cap reached. Its frames are the game's first ones (up to frame
   * `startFrame + frames.length`) and replay exactly; what came after is not recorded.
   */
  readonly truncated?: RecordingTruncation;
}

/**
 * Builds a {@link Recording} from a simulation's steps (the session uses one; use it
 * directly to record a local or single-player simulation). `limits` caps what it keeps
 * (none by default; see {@link RecordingLimits}): at the cap it stops recording and says
 * so in `truncated`. Throws a MeshpartyError `bad-argument` for a limit that is not a
 * whole number ≥ 0.
 *
 * @example
 * ```ts
 * const rec = new Recorder({ game: game.name, seed, startFrame: 0, players }, { maxFrames: 60 * 60 * 60 });
 * const sim = Simulation.start(game, seed, players, 0, (f) => rec.step(f));
 * sim.advance(inputs); rec.hash(sim.frame, sim.hash());
 * if (rec.truncated) hud.note('recording stopped: an hour recorded');
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

  #truncated: RecordingTruncation | undefined;
  readonly #limits: RecordingLimits;

  constructor(
    private readonly start: { game: string; seed: number; startFrame: number; players: readonly PeerId[]; snapshot?: Uint8Array },
    limits?: RecordingLimits,
  ) {
    checkRecordingLimits(limits);
    this.#limits = { ...limits };
  }

  /** The cap that stopped this recording (see {@link RecordingLimits}); undefined while it records every frame. */
  get truncated(): RecordingTruncation | undefined {
    return this.#truncated;
  }

  /**
   * The frames recorded so far. Cheap to read every frame: each read decodes only the
   * frames recorded since the previous read, and returns the same array, extended (so an
   * array read before grows too: copy it, `[...rec.frames]`, to keep it as it was). Shared
   * with the recorder: never mutate it or its frames; take {@link Recorder.recording} for
   * copies of your own. The first read makes the recorder keep the decoded frames (100 to
   * 300 bytes a frame beside its few bytes, measured with two players), so that later
   * reads need not decode them again; a recorder whose `frames` is never read keeps only
   * the bytes (`maxFrames` bounds both).
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

  /** Record a stepped frame (the simulation's `onStep`); past a cap, nothing more is recorded. */
  step(f: SteppedFrame): void {
    if (this.#truncated) return;
    const { maxFrames } = this.#limits;
    if (maxFrames !== undefined && this.#frames.count >= maxFrames) return void (this.#truncated = 'max-frames');
    const w = new ByteWriter(32);
    writeFrame(w, f);
    this.#keep(this.#frames, w.finish());
  }

  /** Record this peer's hash of the state at `frame`; past a cap, only hashes of recorded frames are kept. */
  hash(frame: number, hash: number): void {
    // Once stopped, a hash of a state past the recorded frames could never be checked.
    if (this.#truncated && frame > this.start.startFrame + this.#frames.count) return;
    this.#keep(this.#hashes, new ByteWriter(16).varint(frame).u32(hash >>> 0).finish());
  }

  /** Append unless it would pass maxBytes (which stops the recording: a later, smaller frame must not fill the gap). */
  #keep<T>(log: ByteLog<T>, entry: Uint8Array): void {
    const { maxBytes } = this.#limits;
    if (maxBytes !== undefined && this.#frames.byteLength + this.#hashes.byteLength + entry.length > maxBytes) {
      this.#truncated ??= 'max-bytes';
      return;
    }
    log.append(entry);
  }

  /** Everything recorded, as copies that share nothing with the recorder: decodes every frame (call it to save or replay, not every frame). */
  recording(): Recording {
    const truncated = this.#truncated ? { truncated: this.#truncated } : {};
    return { ...this.start, players: [...this.start.players], frames: this.#frames.copies(), hashes: this.#hashes.copies(), ...truncated };
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
  /**
   * Present when the recording was truncated (its `truncated`): this replay is partial, it
   * reached only `frame`, where the recording stopped, not where its game did.
   */
  readonly truncated?: RecordingTruncation;
}

/**
 * Step every recorded frame and compare every recorded hash. Throws a MeshpartyError
 * `wrong-game` for a recording of another game (its `game` is not `game.name`). A
 * truncated recording (see {@link RecordingLimits}) replays as far as it goes, and the
 * result's `truncated` says the replay is partial.
 *
 * @example
 * ```ts
 * const result = playReplay(lightCycles, session.recording());
 * if (result.mismatches.length) console.error('not deterministic', result.mismatches[0]);
 * if (result.truncated) console.info(`partial replay: the recording stopped at frame ${result.frame}`);
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
  return { frame: sim.frame, state: sim.state, checked, mismatches, ...(rec.truncated ? { truncated: rec.truncated } : {}) };
}

const MAGIC = 0x4d50524c; // "MPRL"
/**
 * Format 1 is a whole recording; format 2 adds after the version byte which cap truncated
 * it (a byte, TRUNCATIONS' index + 1). A complete recording is still written as format 1,
 * so older versions read it; they refuse a truncated one rather than take it for whole.
 */
const TRUNCATIONS: readonly RecordingTruncation[] = ['max-frames', 'max-bytes'];

/**
 * Encode a recording as compact bytes (to save or share a replay); a truncated one stays
 * truncated once decoded.
 *
 * @example
 * ```ts
 * const bytes = encodeRecording(session.recording());
 * const again = decodeRecording(bytes);
 * ```
 */
export function encodeRecording(rec: Recording): Uint8Array {
  const w = new ByteWriter(1024).u32(MAGIC);
  if (rec.truncated === undefined) w.u8(1);
  else {
    const code = TRUNCATIONS.indexOf(rec.truncated);
    if (code < 0) throw new MeshpartyError('bad-argument', `truncated must be one of ${TRUNCATIONS.join(', ')}; got ${String(rec.truncated)}`);
    w.u8(2).u8(code + 1);
  }
  w.string(rec.game).u32(rec.seed >>> 0).varint(rec.startFrame);
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
    if (r.u32() !== MAGIC) throw new Error('not a meshparty recording');
    const format = r.u8();
    if (format !== 1 && format !== 2) throw new Error(`unknown recording format ${format}`);
    const truncated = format === 2 ? TRUNCATIONS[r.u8() - 1] : undefined;
    if (format === 2 && !truncated) throw new Error('unknown truncation');
    const game = r.string();
    const seed = r.u32();
    const startFrame = r.varint();
    const strings = () => Array.from({ length: r.varint() }, () => r.string());
    const players = strings();
    const snapshot = r.u8() === 1 ? r.bytes().slice() : undefined;
    const frames = Array.from({ length: r.varint() }, () => readFrame(r, true));
    const hashes = Array.from({ length: r.varint() }, () => [r.varint(), r.u32()] as const);
    r.end();
    return { game, seed, startFrame, players, ...(snapshot ? { snapshot } : {}), frames, hashes, ...(truncated ? { truncated } : {}) };
  } catch (err) {
    throw new MeshpartyError('bad-recording', `cannot decode recording: ${(err as Error).message}`);
  }
}
