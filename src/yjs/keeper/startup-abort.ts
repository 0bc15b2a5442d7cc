/**
 * Cutting the keeper's startup short with an AbortSignal. The default join hands the
 * signal to joinRoom, which then stops trying the relay; a custom join may ignore it
 * (against a relay that never answers, joinRoom alone tries for ~50 s), so an aborted
 * step is abandoned rather than awaited: startup stops waiting for it at once, and what
 * it still produces later is disposed of.
 */
import { MeshpartyError } from '../../util/errors.js';

/**
 * Resolve or reject with `step`, unless `signal` aborts first (or already has): then
 * reject at once with `aborted()`, and hand a result that arrives afterwards to `dispose`
 * (a room joined after all is left again); a late failure is dropped, nobody awaits it.
 * Nobody awaits `dispose` either: it must not throw, and must handle its own rejections.
 *
 * @example
 * ```ts
 * const room = await unlessAborted(joinOne('notes'), signal, () => new MeshpartyError('aborted', 'stopped'), (late) => void late.leave().catch(console.warn));
 * ```
 */
export function unlessAborted<T>(step: Promise<T>, signal: AbortSignal | undefined, aborted: () => Error, dispose: (late: T) => void): Promise<T> {
  if (!signal) return step;
  return new Promise<T>((resolve, reject) => {
    let abandoned = false;
    const abandon = () => {
      abandoned = true;
      reject(aborted());
    };
    step.then(
      (value) => {
        signal.removeEventListener('abort', abandon);
        if (abandoned) dispose(value);
        else resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abandon);
        if (!abandoned) reject(err);
      },
    );
    if (signal.aborted) abandon();
    else signal.addEventListener('abort', abandon, { once: true });
  });
}

/**
 * The error of a startup that was aborted: code `aborted`, with the rooms joined by then
 * (all of them left again) and the signal's reason in `detail`.
 */
export function startupAborted(signal: AbortSignal, joined: string[], total: number): MeshpartyError {
  return new MeshpartyError('aborted', `keeper startup aborted after joining ${joined.length} of ${total} rooms`, { joined, reason: signal.reason });
}
