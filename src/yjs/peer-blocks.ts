/**
 * Strikes and blocks of peers that send bad messages, bounded for providers that live
 * for months (the keeper). Strikes count only while a peer is in the room. A block lasts
 * while the blocked peer stays, and for `blockForMs` after it leaves, so a peer that
 * leaves and rejoins under the same id at once is still blocked; at most
 * `maxRemembered` departed peers are remembered (the oldest are forgotten first).
 */
import type { PeerId } from '../mesh/types.js';
import type { Clock } from '../util/clock.js';

/** How long a block outlives the blocked peer's departure, by default (10 minutes). */
export const DEFAULT_BLOCK_FOR_MS = 10 * 60_000;
/** Departed blocked peers remembered at most. */
export const MAX_REMEMBERED_BLOCKS = 1000;

/** What the bookkeeping holds (for tests and debugging). */
export interface PeerBlockCounts {
  /** Peers in the room with strikes. */
  striking: number;
  /** Blocked peers still in the room. */
  blocked: number;
  /** Blocked peers that left, remembered until their block ends. */
  departed: number;
}

export class PeerBlocks {
  #strikes = new Map<PeerId, number>();
  #blocked = new Set<PeerId>();
  /** Departed blocked peers and when their block ends; insertion order is expiry order. */
  #departed = new Map<PeerId, number>();

  constructor(
    private readonly maxStrikes: number,
    private readonly blockForMs: number,
    private readonly clock: Clock,
    private readonly maxRemembered = MAX_REMEMBERED_BLOCKS,
  ) {}

  /**
   * One more bad message from `peer`; returns its strikes, and whether it is now
   * blocked. A peer no longer in the room is blocked at once on its last strike but
   * counted as departed (no peer-left will come for it).
   */
  strike(peer: PeerId, inRoom: boolean): { strikes: number; blocked: boolean } {
    const strikes = (this.#strikes.get(peer) ?? 0) + 1;
    if (strikes < this.maxStrikes) {
      if (inRoom) this.#strikes.set(peer, strikes);
      return { strikes, blocked: false };
    }
    this.#strikes.delete(peer);
    if (inRoom) this.#blocked.add(peer);
    else this.#rememberDeparted(peer);
    return { strikes, blocked: true };
  }

  isBlocked(peer: PeerId): boolean {
    if (this.#blocked.has(peer)) return true;
    const until = this.#departed.get(peer);
    if (until === undefined) return false;
    if (this.clock.now() < until) return true;
    this.#departed.delete(peer);
    return false;
  }

  /** `peer` left the room: its strikes are forgotten, its block (if any) starts to run out. */
  left(peer: PeerId): void {
    this.#strikes.delete(peer);
    if (this.#blocked.delete(peer)) this.#rememberDeparted(peer);
  }

  /**
   * `peer` (re)joined the room: true when it is still blocked (it left a block that has
   * not run out), when it stays blocked for as long as it stays; otherwise it starts afresh.
   */
  joined(peer: PeerId): boolean {
    this.#strikes.delete(peer);
    if (this.#blocked.has(peer)) return true; // a room that never reported it gone
    if (!this.isBlocked(peer)) return false;
    this.#departed.delete(peer);
    this.#blocked.add(peer);
    return true;
  }

  get counts(): PeerBlockCounts {
    this.#prune();
    return { striking: this.#strikes.size, blocked: this.#blocked.size, departed: this.#departed.size };
  }

  #rememberDeparted(peer: PeerId): void {
    this.#departed.delete(peer); // re-inserted at the end: the latest expiry
    this.#departed.set(peer, this.clock.now() + this.blockForMs);
    this.#prune();
    // A flood of departures within blockForMs: forget the blocks that end soonest.
    for (const oldest of this.#departed.keys()) {
      if (this.#departed.size <= this.maxRemembered) break;
      this.#departed.delete(oldest);
    }
  }

  /** Drop blocks that ran out; the oldest first, so stop at the first still running. */
  #prune(): void {
    const now = this.clock.now();
    for (const [peer, until] of this.#departed) {
      if (until > now) break;
      this.#departed.delete(peer);
    }
  }
}
