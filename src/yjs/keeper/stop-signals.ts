/**
 * The keeper process's stop request. The first SIGINT or SIGTERM aborts an AbortSignal
 * that startup and the running keeper both watch; from then on neither signal is
 * listened to, so a second one gets Node's default action and ends the process at once
 * (an operator can always cut a close stuck on a hung disk short).
 */

/** What {@link watchStopSignals} returns. */
export interface StopSignals {
  /** Aborted by the first SIGINT or SIGTERM; its `reason` is the signal's name. */
  readonly signal: AbortSignal;
  /** Resolves when `signal` aborts. */
  readonly stopped: Promise<void>;
  /** Stop listening (if no signal came yet): the default action is back for both. */
  dispose(): void;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Listen for SIGINT and SIGTERM until the first one; call it before anything slow starts,
 * so a signal during startup is not lost.
 *
 * @example
 * ```ts
 * const stop = watchStopSignals();
 * try {
 *   const keeper = await createKeeper({ ...options, signal: stop.signal });
 *   await stop.stopped;
 *   await keeper.close();
 * } finally {
 *   stop.dispose();
 * }
 * ```
 */
export function watchStopSignals(): StopSignals {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    dispose();
    controller.abort(name);
  };
  const dispose = () => STOP_SIGNALS.forEach((s) => process.off(s, onSignal));
  STOP_SIGNALS.forEach((s) => process.on(s, onSignal));
  const stopped = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
  return { signal: controller.signal, stopped, dispose };
}
