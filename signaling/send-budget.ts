/**
 * The relay-wide cap on bytes waiting in clients' send buffers. `maxBufferedBytes` bounds
 * one slow reader; without this, `maxConnections` of them could hold 10 000 × 1 MiB.
 */

/** Anything with a WebSocket's send buffer (a ClientConnection). */
interface Reader {
  readonly ws: { readonly bufferedAmount: number };
}

/** When over the cap, readers are dropped until the total is under this share of it. */
const SHED_TO = 0.9;

/** Tracks what each reader had waiting at its last send; drops the largest when over the cap. */
export class SendBudget<R extends Reader> {
  readonly #buffered = new Map<R, number>();
  /** An upper bound on the total: buffers only shrink between our looks at them. */
  #total = 0;
  #shedding = false;

  constructor(
    private readonly cap: number,
    /** Must end the reader and call forget() for it. */
    private readonly drop: (reader: R, total: number) => void,
  ) {}

  /** After a send to `reader`. */
  sent(reader: R): void {
    this.#set(reader, reader.ws.bufferedAmount);
    if (this.#total <= this.cap || this.#shedding) return;
    // Measure every buffer (the bound may be stale), and shed down to under 90%: the next
    // measurement is then a tenth of the cap of sends away, not one per send near the cap.
    for (const r of this.#buffered.keys()) this.#set(r, r.ws.bufferedAmount);
    if (this.#total <= this.cap * SHED_TO) return;
    this.#shedding = true;
    try {
      const largestFirst = [...this.#buffered].sort((a, b) => b[1] - a[1]);
      for (const [r] of largestFirst) {
        if (this.#total <= this.cap * SHED_TO) break;
        // Gone meanwhile: an earlier drop's departure, told to its rooms, dropped it too.
        if (!this.#buffered.has(r)) continue;
        this.drop(r, this.#total);
        this.forget(r);
      }
    } finally {
      this.#shedding = false;
    }
  }

  /** The reader is gone. */
  forget(reader: R): void {
    this.#total -= this.#buffered.get(reader) ?? 0;
    this.#buffered.delete(reader);
  }

  #set(reader: R, bytes: number): void {
    this.#total += bytes - (this.#buffered.get(reader) ?? 0);
    this.#buffered.set(reader, bytes);
  }
}
