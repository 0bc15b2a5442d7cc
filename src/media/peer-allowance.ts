/**
 * How many of something costly each peer may still ask for: a burst at once, then one
 * more per interval. A limit for the peer's whole stay in the room would also stop an
 * app that legitimately repeats the thing now and then (a share made anew on each "join
 * the call"), while a rate still bounds what a misbehaving peer can make us do.
 */
import { TokenBucket } from '../util/token-bucket.js';
import type { PeerId } from '../mesh/types.js';

/** A per-peer allowance: `burst` at once, one more every `refillMs` (a token bucket each). */
export class PeerAllowance {
  readonly #buckets = new Map<PeerId, TokenBucket>();

  constructor(
    readonly burst: number,
    readonly refillMs: number,
    readonly now: () => number = Date.now,
  ) {}

  /** Use one for `peer`: false when it has none left (nothing is used then). */
  take(peer: PeerId): boolean {
    let bucket = this.#buckets.get(peer);
    if (!bucket) this.#buckets.set(peer, (bucket = new TokenBucket(1000 / this.refillMs, this.burst, this.now)));
    return bucket.take();
  }

  /** The peer left: it starts afresh if it comes back. */
  forget(peer: PeerId): void {
    this.#buckets.delete(peer);
  }
}
