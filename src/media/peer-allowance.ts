/**
 * How many of something costly each peer may still ask for: a burst at once, then one
 * more per interval. A limit for the peer's whole stay in the room would also stop an
 * app that legitimately repeats the thing now and then (a share made anew on each "join
 * the call"), while a rate still bounds what a misbehaving peer can make us do.
 */
import type { PeerId } from '../mesh/types.js';

/** A per-peer allowance: `burst` at once, one more every `refillMs`. */
export class PeerAllowance {
  readonly #left = new Map<PeerId, { tokens: number; at: number }>();

  constructor(
    readonly burst: number,
    readonly refillMs: number,
    readonly now: () => number = Date.now,
  ) {}

  /** Use one for `peer`: false when it has none left (nothing is used then). */
  take(peer: PeerId): boolean {
    const at = this.now();
    const last = this.#left.get(peer);
    const tokens = last ? Math.min(this.burst, last.tokens + (at - last.at) / this.refillMs) : this.burst;
    const ok = tokens >= 1;
    this.#left.set(peer, { tokens: ok ? tokens - 1 : tokens, at });
    return ok;
  }

  /** The peer left: it starts afresh if it comes back. */
  forget(peer: PeerId): void {
    this.#left.delete(peer);
  }
}
