/**
 * A tiny typed event emitter. `on()` returns its unsubscribe function; a listener that
 * throws is reported to `onListenerError` (console.error by default) and never stops
 * delivery to other listeners or unwinds into the emitter's caller.
 *
 * @example
 * ```ts
 * const e = new Emitter<{ tick: number }>();
 * const off = e.on('tick', (n) => console.log(n));
 * e.emit('tick', 1);
 * off();
 * ```
 */
export class Emitter<Events extends object> {
  #listeners = new Map<keyof Events, Set<(value: never) => void>>();

  constructor(private readonly onListenerError: (err: unknown) => void = (err) => console.error(err)) {}

  /** Subscribe to `event`; returns the function that unsubscribes. */
  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (value: never) => void);
    return () => {
      set.delete(listener as (value: never) => void);
    };
  }

  /** Subscribe for one delivery only; returns the function that unsubscribes. */
  once<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    const off = this.on(event, (value) => {
      off();
      listener(value);
    });
    return off;
  }

  /** Deliver `value` to every current listener of `event`. */
  emit<K extends keyof Events>(event: K, value: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (value: Events[K]) => void)(value);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  /** Number of listeners of `event` (for tests and leak checks). */
  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Drop every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}
