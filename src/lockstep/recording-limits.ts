/**
 * How much a recording may hold. A session records every frame for as long as its game
 * runs (about 40 MB a day of play, two players at 60 Hz; more with more players or bigger
 * inputs), so a game left running unattended for days needs a cap.
 */
import { MeshpartyError } from '../util/errors.js';

/**
 * Caps on a recording (`new Recorder(start, limits)`, or a session's `recording` option).
 * There is no cap by default: a recording is there to replay or debug the whole game, a
 * replay cut short by a default the app never chose would be the worse surprise, and
 * 40 MB a day is little next to what a game tab holds; set one for games left running for
 * days. At the cap the recording stops: the frames recorded so far stay (a replay of
 * them is exact), later frames and their hashes are not kept, and the recording's
 * `truncated` says which cap stopped it (`playReplay` reports it too). It does not keep
 * the last frames instead: replaying those would need the state they start from.
 *
 * @example
 * ```ts
 * // At most an hour at 60 Hz, and never more than 8 MB of frames and hashes.
 * const limits: RecordingLimits = { maxFrames: 60 * 60 * 60, maxBytes: 8_000_000 };
 * const session = createLockstepSession({ room, game, recording: limits });
 * // later:
 * if (session.recording().truncated) toast('the replay covers the first hour only');
 * ```
 */
export interface RecordingLimits {
  /** Most frames recorded, a whole number ≥ 0; a frame past it stops the recording (`truncated: 'max-frames'`). */
  maxFrames?: number;
  /**
   * Most bytes of recorded frames and hashes (as `encodeRecording` writes them; the
   * header and a late joiner's snapshot, written once, do not count), a whole number
   * ≥ 0; a frame or hash that would pass it stops the recording (`truncated: 'max-bytes'`).
   */
  maxBytes?: number;
}

/**
 * Why a recording stopped before its game did: the {@link RecordingLimits} cap it reached.
 *
 * @example
 * ```ts
 * const why: RecordingTruncation | undefined = playReplay(game, rec).truncated;
 * if (why) console.info(`partial replay: the recording stopped at its ${why === 'max-frames' ? 'frame' : 'byte'} cap`);
 * ```
 */
export type RecordingTruncation = 'max-frames' | 'max-bytes';

/** Throws `bad-argument` naming the first bad limit (`prefix` + its name, e.g. `recording.maxFrames`). */
export function checkRecordingLimits(limits: unknown, prefix = ''): asserts limits is RecordingLimits | undefined {
  if (limits === undefined) return;
  const name = prefix.replace(/\.$/, '') || 'limits';
  if (typeof limits !== 'object' || limits === null) {
    throw new MeshpartyError('bad-argument', `${name} must be an object with maxFrames and/or maxBytes; got ${String(limits)}`, { option: name });
  }
  for (const key of ['maxFrames', 'maxBytes'] as const) {
    const v = (limits as RecordingLimits)[key];
    if (v === undefined || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) continue;
    throw new MeshpartyError('bad-argument', `${prefix}${key} must be a whole number, at least 0 (leave it out for no cap); got ${String(v)}`, { option: `${prefix}${key}` });
  }
}
