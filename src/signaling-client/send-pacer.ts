/**
 * Keeps a client under the relay's per-connection message rate (a token bucket, like the
 * relay's own): frames over the rate wait in a bounded FIFO instead of being refused by
 * the relay, since a refused offer or answer would leave a pair of peers unconnected.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

/** Options of {@link SendPacer}. */
export interface PacerOptions {
  /** Sustained frames per second (default 50, half the relay's default limit). */
  perSecond?: number;
  /** Frames that may go out at once (default 100, half the relay's default burst). */
  burst?: number;
  /** Frames that may wait; beyond it the oldest is dropped (default 2000). */
  maxQueued?: number;
}

/**
 * A token bucket in front of a send function, with a bounded FIFO behind it.
 *
 * @example
 * ```ts
 * const pacer = new SendPacer<string>(realClock(), { perSecond: 50, burst: 100 }, (f) => ws.send(f), () => {});
 * pacer.push(JSON.stringify(frame));
 * ```
 */
export class SendPacer<T> {
  #tokens: number;
  #last: number;
  #queue: T[] = [];
  #head = 0;
  #timer: TimerHandle | undefined;
  #perSecond: number;
  #burst: number;
  readonly #maxQueued: number;

  constructor(
    private readonly clock: Clock,
    options: PacerOptions,
    private readonly send: (item: T) => void,
    private readonly onDrop: (count: number) => void,
  ) {
    this.#perSecond = Math.max(1, options.perSecond ?? 50);
    this.#burst = Math.max(1, options.burst ?? 100);
    this.#maxQueued = Math.max(1, options.maxQueued ?? 2000);
    this.#tokens = this.#burst;
    this.#last = clock.now();
  }

  /** Frames waiting. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Send now if the rate allows, else queue (in order behind anything already waiting). */
  push(item: T): void {
    this.#queue.push(item);
    if (this.queued > this.#maxQueued) {
      this.#head++;
      this.onDrop(1);
    }
    this.#pump();
  }

  /**
   * Halve the rate and the burst (down to 1 frame a second): the relay refused a frame for
   * its rate, so it allows less than this pacer was set for.
   */
  slowDown(): void {
    this.#refill();
    this.#perSecond = Math.max(1, this.#perSecond / 2);
    this.#burst = Math.max(1, this.#burst / 2);
    this.#tokens = Math.min(this.#tokens, this.#burst);
  }

  /** Current sustained rate, frames per second. */
  get perSecond(): number {
    return this.#perSecond;
  }

  /** Forget everything waiting (the connection is gone). */
  clear(): void {
    this.#queue = [];
    this.#head = 0;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #refill(): void {
    const now = this.clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#perSecond) / 1000);
    this.#last = now;
  }

  #pump(): void {
    if (this.#timer !== undefined) return; // a wake-up is already due
    this.#refill();
    while (this.queued > 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
      const item = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as T;
      this.send(item);
    }
    if (this.#head > 256 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.queued > 0) {
      const wait = Math.ceil(((1 - this.#tokens) * 1000) / this.#perSecond);
      this.#timer = this.clock.setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, Math.max(1, wait));
    }
  }
}
