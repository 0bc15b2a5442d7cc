/**
 * A token bucket: `burst` tokens, refilled at `ratePerSecond`. Each accepted message takes
 * one token (or, counting bytes, its size). Time comes from an injected clock so tests can
 * drive it.
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

  /**
   * Take `n` tokens; false when there are too few (the message is over the rate). A take
   * larger than the whole burst passes on a full bucket and leaves it in debt, repaid by the
   * refill: otherwise a burst set below the frame limit would refuse such frames for good.
   */
  take(n = 1): boolean {
    this.#refill();
    if (this.#tokens < Math.min(n, this.burst)) return false;
    this.#tokens -= n;
    return true;
  }

  /** True when the bucket has refilled to its burst (it is then as good as a new one). */
  full(): boolean {
    this.#refill();
    return this.#tokens >= this.burst;
  }

  #refill(): void {
    const t = this.now();
    const elapsed = Math.max(0, t - this.#last);
    this.#last = t;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed / 1000) * this.ratePerSecond);
  }
}
