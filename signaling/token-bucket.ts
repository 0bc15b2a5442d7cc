/**
 * A token bucket: `burst` tokens, refilled at `ratePerSecond`. Each accepted message takes
 * one token. Time comes from an injected clock so tests can drive it.
 */
/**
 * @example
 * ```ts
 * const bucket = new TokenBucket(100, 200, Date.now);
 * if (!bucket.take()) refuse('rate-limited');
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  /** Take one token; false when the bucket is empty (the message is over the rate). */
  take(): boolean {
    const t = this.now();
    const elapsed = Math.max(0, t - this.#last);
    this.#last = t;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed / 1000) * this.ratePerSecond);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
