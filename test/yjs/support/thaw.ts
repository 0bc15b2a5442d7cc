/**
 * A page's freeze or sleep, for presence tests: a clock whose time jumps without its timers
 * running, and the wall-time stamps of an Awareness's states aged by as much (y-protocols
 * reads Date.now, which a test cannot move for it, so the stamps are moved back instead).
 */
import type { Awareness } from 'y-protocols/awareness';
import { ManualClock, type Clock, type TimerHandle } from '../../../src/util/clock.js';

/** A ManualClock whose time can also jump ahead without running the timers due meanwhile (a frozen page's). */
export class StallableClock implements Clock {
  readonly manual = new ManualClock();
  #skipped = 0;
  now(): number {
    return this.manual.now() + this.#skipped;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.manual.setTimeout(fn, ms);
  }
  clearTimeout(handle: TimerHandle): void {
    this.manual.clearTimeout(handle);
  }
  /** Time passes, and none of our timers run. */
  stall(ms: number): void {
    this.#skipped += ms;
  }
}

/** The wall clock moved `ms` on for every state of `awareness` (ours too): they all look that much older. */
export function age(awareness: Awareness, ms: number): void {
  for (const [client, meta] of awareness.meta) awareness.meta.set(client, { ...meta, lastUpdated: meta.lastUpdated - ms });
}
