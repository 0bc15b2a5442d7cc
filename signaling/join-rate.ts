/**
 * Joins per client address. Every join makes each member of the room start a peer
 * connection to the newcomer (an RTCPeerConnection in every tab), so one client joining
 * and leaving under fresh peer ids made every member build and tear down peer
 * connections at the message rate. Counted per address (as `maxConnectionsPerIp` counts
 * it), not per connection: more connections, or new ones, must not buy more joins.
 */
import { TokenBucket } from '../src/util/token-bucket.js';

/** One token bucket per address that joined lately (internal to `signaling/`). */
export class JoinRate {
  readonly #buckets = new Map<string, TokenBucket>();
  /** Buckets are forgotten once full again; how often to look for those. */
  readonly #sweepEveryMs: number;
  #nextSweep: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    // A full bucket is the same as none; one refills in burst / perSecond seconds.
    this.#sweepEveryMs = Math.min(60_000, Math.max(1000, (burst / perSecond) * 1000));
    this.#nextSweep = now() + this.#sweepEveryMs;
  }

  /** Count one join from `address`; false when it is over the rate. */
  take(address: string): boolean {
    if (this.perSecond === Infinity || this.burst === Infinity) return true;
    this.#sweep();
    let bucket = this.#buckets.get(address);
    if (!bucket) this.#buckets.set(address, (bucket = new TokenBucket(this.perSecond, this.burst, this.now)));
    return bucket.take();
  }

  /** Addresses with a bucket (for tests: the map stays bounded). */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(): void {
    const t = this.now();
    if (t < this.#nextSweep) return;
    this.#nextSweep = t + this.#sweepEveryMs;
    for (const [address, bucket] of this.#buckets) if (bucket.full()) this.#buckets.delete(address);
  }
}
