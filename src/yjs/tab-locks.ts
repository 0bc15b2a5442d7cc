/**
 * Knowing at once that another tab is gone, even when it crashed or was killed and never
 * said goodbye: each tab holds a Web Lock named after it for as long as its tab sync
 * runs, and asks for the lock of every tab it hears from. The browser grants a lock only
 * when its holder lets go, and it lets go for a tab that closes, crashes or is discarded,
 * so that grant is the news. No timers: a hidden tab, whose timers fire once a minute,
 * is not taken for gone, and a crashed one goes without waiting for a timeout.
 */

/**
 * The part of the Web Locks API (`navigator.locks`) that tab sync uses.
 *
 * @example
 * ```ts
 * const locks: TabLocks = navigator.locks;
 * ```
 */
export interface TabLocks {
  request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => unknown): Promise<unknown>;
}

const LOCK_PREFIX = 'meshparty-tab:';

/** This tab's lock and its watches on the other tabs' locks. */
export class TabLiveness {
  #locks: TabLocks | undefined;
  #closed = new AbortController();
  #watches = new Map<string, AbortController>();
  #held = false;

  /**
   * Take this tab's lock; `onHeld` runs once it is held (at once without locks). Until
   * then the tab must not speak: a tab that heard from it could ask for its lock first,
   * be granted it, and take it for gone.
   */
  constructor(locks: TabLocks | undefined, tabId: string, onHeld: () => void, log: (message: string) => void) {
    this.#locks = locks;
    if (!locks) {
      onHeld();
      return;
    }
    const signal = this.#closed.signal;
    const held = new Promise<void>((release) => signal.addEventListener('abort', () => release(), { once: true }));
    locks
      .request(LOCK_PREFIX + tabId, { signal }, () => {
        this.#held = true;
        onHeld();
        return held;
      })
      .catch((err: unknown) => {
        if (signal.aborted) return;
        // E.g. a sandboxed frame without storage access: sync goes on, crashes go unseen.
        log(`no Web Lock for this tab (${(err as Error)?.message ?? err}): a tab that crashes stays counted`);
        this.#locks = undefined;
        onHeld();
      });
  }

  /** Whether this tab holds its lock, so other tabs may watch it (said in its envelopes). */
  get held(): boolean {
    return this.#held;
  }

  /** Call `onGone` once the tab `tabId` (which said it holds its lock) lets go of it. */
  watch(tabId: string, onGone: () => void): void {
    if (!this.#locks || this.#watches.has(tabId) || this.#closed.signal.aborted) return;
    const watch = new AbortController();
    this.#watches.set(tabId, watch);
    this.#locks
      .request(LOCK_PREFIX + tabId, { signal: watch.signal }, () => {
        // Granted: the other tab let go of its lock. Let go at once (return), so another
        // tab watching the same one is told too.
        if (this.#watches.get(tabId) !== watch) return;
        this.#watches.delete(tabId);
        onGone();
      })
      .catch(() => {
        // Aborted by unwatch() or close(); a lock manager that refuses leaves that tab
        // to its goodbye.
        if (this.#watches.get(tabId) === watch) this.#watches.delete(tabId);
      });
  }

  /** Stop watching `tabId` (it said goodbye, or was forgotten). */
  unwatch(tabId: string): void {
    this.#watches.get(tabId)?.abort();
    this.#watches.delete(tabId);
  }

  /** Let go of this tab's lock and stop every watch. */
  close(): void {
    this.#closed.abort();
    for (const watch of this.#watches.values()) watch.abort();
    this.#watches.clear();
  }
}
