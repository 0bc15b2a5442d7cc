/**
 * The relay-wide cap on bytes of messages still arriving: a frame partly received, or the
 * first fragments of a fragmented message. The WebSocket layer bounds each connection
 * (one message of at most 2 × `maxFrameBytes`), but a client may send most of a frame and
 * stall, or keep a fragmented message open while it answers pings: `maxConnections` of
 * them held 10 000 × 128 KiB (1.25 GiB) at the default limits. Over the cap, the
 * connections holding the most are closed.
 */
import type { WebSocket } from 'ws';

/** What ws's receiver holds for the message in progress (its fields, read only here). */
interface ReceiverState {
  /** Raw bytes received and not yet parsed: the frame in progress. */
  _bufferedBytes?: unknown;
  /** Payload bytes of the earlier fragments of the message in progress. */
  _messageLength?: unknown;
}

/**
 * Bytes `ws` holds for the message in progress. ws (8.x) has no public measure of this,
 * so its receiver's two counters are read; test/relay/partial-budget.test.ts checks them
 * against real partial frames, so an upgrade of ws that changes them fails there.
 */
export function partialBytes(ws: WebSocket): number {
  const r = (ws as unknown as { _receiver?: ReceiverState })._receiver;
  const buffered = r?._bufferedBytes;
  const fragments = r?._messageLength;
  return (typeof buffered === 'number' ? buffered : 0) + (typeof fragments === 'number' ? fragments : 0);
}

/** When over the cap, connections are closed until the total is under this share of it. */
const SHED_TO = 0.9;

/**
 * Tracks the partial bytes of each connection, measured after each chunk its socket
 * delivers (the only time they change: ws parses a chunk as it arrives), and closes the
 * largest holders when the total goes over the cap.
 */
export class PartialBudget<C> {
  readonly #held = new Map<C, number>();
  #total = 0;
  #shedding = false;

  constructor(
    private readonly cap: number,
    /** Must end the connection; it is forgotten here. */
    private readonly drop: (conn: C, held: number, total: number) => void,
  ) {}

  /** `conn` now holds `bytes` of messages in progress. */
  measured(conn: C, bytes: number): void {
    this.#total += bytes - (this.#held.get(conn) ?? 0);
    if (bytes > 0) this.#held.set(conn, bytes);
    else this.#held.delete(conn);
    if (this.#total <= this.cap || this.#shedding) return;
    this.#shedding = true;
    try {
      const largestFirst = [...this.#held].sort((a, b) => b[1] - a[1]);
      for (const [c, held] of largestFirst) {
        if (this.#total <= this.cap * SHED_TO) break;
        // Gone meanwhile: an earlier close's departure, told to its rooms, dropped it too.
        if (!this.#held.has(c)) continue;
        const total = this.#total;
        this.forget(c);
        this.drop(c, held, total);
      }
    } finally {
      this.#shedding = false;
    }
  }

  /** The connection is gone (or ended: what it still receives is not served). */
  forget(conn: C): void {
    this.#total -= this.#held.get(conn) ?? 0;
    this.#held.delete(conn);
  }

  /** Bytes of messages in progress on all connections (served as `partialBytes` in the metrics). */
  get total(): number {
    return this.#total;
  }
}
