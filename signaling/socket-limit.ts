/**
 * TCP sockets per client address, counted from accept to close: before the WebSocket
 * upgrade too, where `maxConnectionsPerIp` (which counts upgraded connections) cannot see
 * them. Without it one address held ~20 000 sockets open by sending its HTTP request
 * slowly or not at all (each lasting up to `handshakeTimeoutMs`, and opened again). Refused
 * addresses are tallied for one aggregated log line per interval, never one per socket.
 */

/** At most this many addresses are named in one interval's log line; the rest are summed. */
const MAX_NAMED_ADDRESSES = 20;

/** Open sockets per address and refusals since the last log line (internal to `signaling/`). */
export class SocketLimit {
  readonly #open = new Map<string, number>();
  #refused = new Map<string, number>();
  #refusedOthers = 0;

  constructor(private readonly maxPerAddress: number) {}

  /** Count a new socket from `address`; false (not counted) when the address is at the cap. */
  admit(address: string): boolean {
    const open = this.#open.get(address) ?? 0;
    if (open >= this.maxPerAddress) {
      const seen = this.#refused.get(address);
      if (seen !== undefined || this.#refused.size < MAX_NAMED_ADDRESSES) this.#refused.set(address, (seen ?? 0) + 1);
      else this.#refusedOthers++;
      return false;
    }
    this.#open.set(address, open + 1);
    return true;
  }

  /** A socket `admit` counted has closed. */
  release(address: string): void {
    const left = (this.#open.get(address) ?? 1) - 1;
    if (left > 0) this.#open.set(address, left);
    else this.#open.delete(address);
  }

  /** Sockets open from `address` (for tests). */
  openFrom(address: string): number {
    return this.#open.get(address) ?? 0;
  }

  /** Refusals since the last call, by address (at most 20 named, the rest as `others`); undefined if none. */
  drainRefused(): { addresses: Record<string, number>; others: number } | undefined {
    if (this.#refused.size === 0) return undefined;
    const out = { addresses: Object.fromEntries(this.#refused), others: this.#refusedOthers };
    this.#refused = new Map();
    this.#refusedOthers = 0;
    return out;
  }
}
