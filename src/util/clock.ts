/**
 * Time, injected. Everything in meshparty that waits (heartbeats, backoff, lockstep
 * ticks, simulated link latency) takes a Clock, so tests can run thousands of frames
 * of simulated time deterministically with {@link ManualClock}.
 */

/** An opaque timer handle. */
export type TimerHandle = { readonly __timer: unique symbol } | number | object;

/**
 * A source of time and timers: {@link realClock} in apps, {@link ManualClock} in tests.
 *
 * @example
 * ```ts
 * function timeout(clock: Clock, ms: number): Promise<void> {
 *   return new Promise((resolve) => clock.setTimeout(resolve, ms));
 * }
 * ```
 */
export interface Clock {
  /** Milliseconds, monotonic within one clock. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The longest delay the platform's setTimeout takes as given (2^31 - 1 ms); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The real clock (performance.now + global timers).
 *
 * @example
 * ```ts
 * const clock = realClock();
 * clock.setTimeout(() => console.log(clock.now()), 100);
 * ```
 */
export function realClock(): Clock {
  return {
    now: () => performance.now(),
    // Node and browsers take a delay over 2^31 - 1 ms (about 24.8 days), Infinity
    // included, as 1 ms: an option such as connectTimeoutMs: Infinity ("never") would time
    // out every connection at once. Capped, such a timer just never fires in practice.
    setTimeout: (fn, ms) => setTimeout(fn, Math.min(ms, MAX_TIMER_MS)) as unknown as TimerHandle,
    clearTimeout: (h) => clearTimeout(h as Parameters<typeof clearTimeout>[0]),
  };
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Earlier `at` first; ties in creation order, so runs are deterministic. */
const before = (a: ManualTimer, b: ManualTimer) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * A clock that only moves when told to. `advance(ms)` runs every timer that falls due,
 * in time order (ties in creation order), each one seeing `now()` equal to its due time;
 * timers scheduled while advancing run in the same call if they fall due within it.
 * `advanceAsync(ms)` does the same but lets promise continuations run between due
 * times, for code that awaits.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * clock.setTimeout(() => console.log('at', clock.now()), 50);
 * clock.advance(100); // prints "at 50"
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  /** Binary min-heap of timers; cancelled ones are skipped lazily. */
  #heap: ManualTimer[] = [];
  #live = new Set<number>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { at: this.#now + Math.max(0, ms), seq: ++this.#seq, fn };
    this.#live.add(t.seq);
    this.#push(t);
    return t.seq;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#live.delete(handle as number);
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.#live.size;
  }

  /** Move time forward by `ms`, running due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    while (this.#runNext(target));
    this.#now = target;
  }

  /** Like advance(), but drains the microtask queue after each due time. */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const top = this.#peek();
      if (!top || top.at > target) break;
      const at = top.at;
      while (this.#peek()?.at === at) this.#runNext(target);
      await new Promise<void>((r) => setImmediate(r));
    }
    this.#now = target;
  }

  #peek(): ManualTimer | undefined {
    while (this.#heap.length && !this.#live.has(this.#heap[0]!.seq)) this.#pop();
    return this.#heap[0];
  }

  #runNext(target: number): boolean {
    const t = this.#peek();
    if (!t || t.at > target) return false;
    this.#pop();
    this.#live.delete(t.seq);
    this.#now = t.at;
    t.fn();
    return true;
  }

  #push(t: ManualTimer): void {
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
