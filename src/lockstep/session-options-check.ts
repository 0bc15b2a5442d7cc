/**
 * The numeric options of a lockstep session, checked when it is created. The starter's
 * tickHz and hashEvery travel to every peer in the start message (tickHz in one byte), so
 * a value the wire cannot carry would run the starter at one rate and everyone else at
 * another, or have every peer refuse the start; a bad value is the caller's mistake and
 * gets `bad-argument` at once instead.
 */
import { MeshpartyError } from '../util/errors.js';
import { checkRecordingLimits } from './recording-limits.js';
import type { LockstepSessionOptions } from './session-api.js';

/** Most ids one start message may list (the decoder's bound), so the most players a session can seat. */
const MAX_MEMBERS = 256;

/** Throws `bad-argument` naming the first option out of range; returns nothing when all are fine. */
export function checkSessionOptions(opts: Pick<LockstepSessionOptions<unknown, unknown>, 'tickHz' | 'hashEvery' | 'inputDelay' | 'maxPlayers' | 'recording'>): void {
  const whole = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  const bad = (name: string, rule: string, value: unknown) => new MeshpartyError('bad-argument', `${name} must be ${rule}; got ${String(value)}`, { option: name });
  const { tickHz, hashEvery, inputDelay, maxPlayers } = opts;
  if (tickHz !== undefined && !whole(tickHz, 1, 255)) throw bad('tickHz', 'a whole number of ticks per second from 1 to 255 (it travels in one byte)', tickHz);
  if (hashEvery !== undefined && !whole(hashEvery, 1, Number.MAX_SAFE_INTEGER)) throw bad('hashEvery', 'a whole number of frames, at least 1', hashEvery);
  if (inputDelay !== undefined && inputDelay !== 'auto' && !(typeof inputDelay === 'number' && Number.isFinite(inputDelay))) throw bad('inputDelay', "a number of frames (clamped to 0-60) or 'auto'", inputDelay);
  if (maxPlayers !== undefined && !whole(maxPlayers, 1, MAX_MEMBERS)) throw bad('maxPlayers', `a whole number from 1 to ${MAX_MEMBERS}`, maxPlayers);
  // Checked here, not when a game starts and the recorder is made: a start is too late to tell the app.
  checkRecordingLimits(opts.recording, 'recording.');
}
