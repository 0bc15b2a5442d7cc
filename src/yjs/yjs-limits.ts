/**
 * The caller's `limits` (what other tabs or peers may send) over the defaults, checked.
 * A plain spread would let `{ maxUpdateBytes: undefined }`, or NaN, switch a limit off
 * without a word (`size > undefined` is never true), and an app that passes a setting
 * it read from its configuration, unset there, means the default.
 */
import { MeshpartyError } from '../util/errors.js';
import { DEFAULT_YJS_LIMITS, type YjsLimits } from './protocol.js';

/**
 * `limits` over {@link DEFAULT_YJS_LIMITS}: a limit left out or `undefined` keeps its
 * default; any other must be a whole number of at least 1, or Infinity (no limit).
 * Throws `bad-argument` naming the first that is not (and for `limits` not an object).
 *
 * @example
 * ```ts
 * const limits = resolveYjsLimits({ maxUpdateBytes: 16 * 1024 * 1024 }); // the other two: defaults
 * ```
 */
export function resolveYjsLimits(limits: Partial<YjsLimits> | undefined): YjsLimits {
  if (limits === undefined) return { ...DEFAULT_YJS_LIMITS };
  if (typeof limits !== 'object' || limits === null) throw new MeshpartyError('bad-argument', `limits must be an object, got ${String(limits)}`);
  const resolved = { ...DEFAULT_YJS_LIMITS };
  for (const name of Object.keys(DEFAULT_YJS_LIMITS) as Array<keyof YjsLimits>) {
    const value: unknown = limits[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value === Infinity || (Number.isInteger(value) && value >= 1))) {
      throw new MeshpartyError('bad-argument', `limits.${name} must be a whole number of at least 1 (or Infinity), got ${String(value)}`);
    }
    resolved[name] = value;
  }
  return resolved;
}
