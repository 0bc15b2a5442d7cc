/**
 * Reconnect delays: exponential, capped, with random jitter so that many clients cut
 * off by the same relay restart do not all come back in the same millisecond.
 */

/** Default largest delay, ms (`maxMs`). */
export const DEFAULT_BACKOFF_MAX_MS = 10_000;

/**
 * Options of {@link backoffDelay}: how fast a client retries the relay.
 *
 * @example
 * ```ts
 * // Retry sooner and never wait more than 3 s (a LAN party's own relay).
 * const backoff: BackoffOptions = { initialMs: 100, maxMs: 3000, jitter: 0.2 };
 * const signaling = createWebSocketSignaling({ url, room, backoff });
 * ```
 */
export interface BackoffOptions {
  /** First delay, ms (default 250). */
  initialMs?: number;
  /** Largest delay, ms (default 10 000). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Fraction of the delay that is random: 0.5 means 50-100 % of it (default 0.5). */
  jitter?: number;
}

/**
 * Delay before reconnect attempt `attempt` (0 for the first retry).
 *
 * @example
 * ```ts
 * backoffDelay(0, {}, Math.random); // 125-250 ms
 * backoffDelay(10, { maxMs: 5000 }, () => 0.999); // just under 5000 ms
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const base = Math.min(max, initial * factor ** Math.min(attempt, 64));
  return Math.round(base * (1 - jitter + jitter * random()));
}
