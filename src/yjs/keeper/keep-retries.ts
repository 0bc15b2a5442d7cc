/**
 * Documents the keeper could not start keeping (a full disk, no file descriptors left, a
 * log it cannot read yet), tried again on a timer. A document's name arrives when its
 * provider starts and when a peer joins, and a stored one's at startup: without a retry,
 * one refused while the disk was full stayed unkept after space returned for as long as
 * the same peers stayed, and none of their edits reached the disk.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import { backoffDelay } from '../../signaling-client/backoff.js';

/** First wait before trying a document again; doubled per failure in a row, up to the cap. */
export const KEEP_RETRY_FIRST_MS = 1000;
export const KEEP_RETRY_MAX_MS = 5 * 60_000;

/** Retry timers by key (room and document); see the module comment. */
export class KeepRetries {
  #waiting = new Map<string, { failures: number; timer: TimerHandle | undefined }>();

  constructor(private readonly clock: Clock) {}

  /**
   * Trying `key` failed: run `retry` after a backoff, unless a retry is already due (an
   * announcement may try in between). Returns the wait, or undefined if one was due.
   */
  failed(key: string, retry: () => void): number | undefined {
    let entry = this.#waiting.get(key);
    if (!entry) this.#waiting.set(key, (entry = { failures: 0, timer: undefined }));
    if (entry.timer !== undefined) return undefined;
    const waitMs = backoffDelay(entry.failures, { initialMs: KEEP_RETRY_FIRST_MS, maxMs: KEEP_RETRY_MAX_MS, jitter: 0 }, Math.random);
    entry.failures++;
    const waiting = entry;
    waiting.timer = this.clock.setTimeout(() => {
      waiting.timer = undefined;
      retry();
    }, waitMs);
    return waitMs;
  }

  /** `key` is kept now (or needs no keeping): forget its failures and any retry due. */
  succeeded(key: string): void {
    const entry = this.#waiting.get(key);
    if (!entry) return;
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    this.#waiting.delete(key);
  }

  /** Stop every retry (the keeper closes). */
  clear(): void {
    for (const key of [...this.#waiting.keys()]) this.succeeded(key);
  }

  /** Documents waiting for a retry (for tests). */
  get size(): number {
    return this.#waiting.size;
  }
}
