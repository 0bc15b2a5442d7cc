/**
 * What one mesh remembers of each remote peer id's conduct for the life of the room:
 * strikes for bad input, bans after too many, and password mismatches. Kept by id, apart
 * from the per-connection and per-record state, because a peer can always reconnect or
 * leave and rejoin the relay room: counted per connection, a peer could send
 * maxStrikes - 1 bad frames, reconnect and start again for ever; banned until it left
 * the relay room, it could rejoin at once and be let in.
 *
 *  - A strike expires `strikeExpiryMs` after it was counted: `maxStrikes` strikes within
 *    that window cut the peer off, a glitch now and then never does.
 *  - A cut-off peer is banned for `banMs`, doubled for each earlier ban of that id (at
 *    most {@link MAX_BAN_DOUBLINGS} times); its strikes start over when it is let back.
 *  - A peer whose signals did not decrypt (another password) is not offered to again for
 *    1 s, doubled per mismatch in a row (at most 60 s), so one that leaves and rejoins the
 *    relay room in a loop cannot make us build a connection per rejoin.
 *
 * At most {@link MAX_CONDUCT_RECORDS} ids are remembered; a record with nothing left to
 * remember is dropped, and past the bound the longest-unused ones go first, running bans
 * last.
 */
import { MAX_TIMER_MS, type Clock } from '../util/clock.js';
import type { PeerId } from './types.js';

/** A repeat offender's ban doubles at most this many times (64 x banMs). */
export const MAX_BAN_DOUBLINGS = 6;
/** The longest ban: a timer considers the peer again when it ends, and timers go no further. */
export const MAX_BAN_MS = MAX_TIMER_MS;
/** Ids remembered at most (a record is a few numbers). */
export const MAX_CONDUCT_RECORDS = 1000;
/** Wait before offering again to a peer after its first password mismatch; doubles per mismatch in a row. */
const MISMATCH_WAIT_MS = 1000;
const MAX_MISMATCH_WAIT_MS = 60_000;
/** Strike times kept at most per id (maxStrikes may be Infinity). */
const MAX_STRIKE_TIMES = 1024;

interface Conduct {
  /** When each unexpired strike was counted, oldest first. */
  strikes: number[];
  /** Bans so far (each doubles the next). */
  bans: number;
  /** Clock time the current ban ends (0: none). */
  bannedUntil: number;
  /** A refused attempt during the current ban has been reported (one report per ban). */
  refusalReported: boolean;
  /** Password mismatches in a row, and the time of the latest. */
  mismatches: number;
  mismatchAt: number;
}

/** Conduct limits (the mesh options of the same names). */
export interface ConductLimits {
  maxStrikes: number;
  strikeExpiryMs: number;
  banMs: number;
}

/**
 * The conduct book of one mesh.
 *
 * @example
 * ```ts
 * const conduct = new PeerConduct({ maxStrikes: 10, strikeExpiryMs: 600_000, banMs: 60_000 }, clock);
 * if (conduct.strike('p1') >= 10) conduct.ban('p1');
 * conduct.bannedForMs('p1'); // 60000
 * ```
 */
export class PeerConduct {
  #records = new Map<PeerId, Conduct>();

  constructor(
    private readonly limits: ConductLimits,
    private readonly clock: Clock,
  ) {}

  /** One more strike for `id`; returns its unexpired strikes, this one included. */
  strike(id: PeerId): number {
    const r = this.#touch(id);
    this.#expire(r);
    r.strikes.push(this.clock.now());
    if (r.strikes.length > MAX_STRIKE_TIMES) r.strikes.shift();
    return r.strikes.length;
  }

  /**
   * Ban `id` (its strikes are cleared) for its back-off, or `atLeastMs` when that is longer
   * (an upper layer's block, which would cut the peer off again when back sooner); returns
   * how long, in ms.
   */
  ban(id: PeerId, atLeastMs = 0): number {
    const r = this.#touch(id);
    const ms = Math.max(this.limits.banMs * 2 ** Math.min(r.bans, MAX_BAN_DOUBLINGS), Math.min(atLeastMs, MAX_BAN_MS));
    r.bans++;
    r.strikes = [];
    r.bannedUntil = this.clock.now() + ms;
    r.refusalReported = false;
    return ms;
  }

  /** How long `id` stays banned (0: not banned). */
  bannedForMs(id: PeerId): number {
    const r = this.#records.get(id);
    return r ? Math.max(0, r.bannedUntil - this.clock.now()) : 0;
  }

  /** Bans of `id` so far, the current one included. */
  bans(id: PeerId): number {
    return this.#records.get(id)?.bans ?? 0;
  }

  /** True the first time in the current ban of `id` (report one refused attempt per ban, log the rest). */
  firstRefusal(id: PeerId): boolean {
    const r = this.#records.get(id);
    if (!r || r.refusalReported) return false;
    r.refusalReported = true;
    return true;
  }

  /** Signals from `id` did not decrypt with our key. */
  mismatched(id: PeerId): void {
    const r = this.#touch(id);
    r.mismatches++;
    r.mismatchAt = this.clock.now();
  }

  /** `id` has shown it shares our password: no more waiting before offering to it. */
  matched(id: PeerId): void {
    const r = this.#records.get(id);
    if (r) r.mismatches = 0;
  }

  /** How long to wait before offering to `id`: its ban, or the wait after password mismatches. */
  waitMs(id: PeerId): number {
    const r = this.#records.get(id);
    if (!r) return 0;
    const now = this.clock.now();
    const mismatchWait = r.mismatches === 0 ? 0 : r.mismatchAt + Math.min(MISMATCH_WAIT_MS * 2 ** (r.mismatches - 1), MAX_MISMATCH_WAIT_MS) - now;
    return Math.max(0, r.bannedUntil - now, mismatchWait);
  }

  /** Ids with a record (for tests: the book stays bounded). */
  get size(): number {
    return this.#records.size;
  }

  #expire(r: Conduct): void {
    const since = this.clock.now() - this.limits.strikeExpiryMs;
    while (r.strikes.length > 0 && r.strikes[0]! <= since) r.strikes.shift();
  }

  /** The record of `id` (created), moved to the newest end of the book, which stays bounded. */
  #touch(id: PeerId): Conduct {
    let r = this.#records.get(id);
    if (r) this.#records.delete(id);
    // Room is made before a new record goes in: pruned with the others, it would be the
    // first to go (it holds nothing yet), and what the caller counts in it would be lost.
    else if (this.#records.size >= MAX_CONDUCT_RECORDS) this.#prune(MAX_CONDUCT_RECORDS - 1);
    r ??= { strikes: [], bans: 0, bannedUntil: 0, refusalReported: false, mismatches: 0, mismatchAt: 0 };
    this.#records.set(id, r);
    return r;
  }

  /**
   * Drop records with nothing to remember; past `bound`, then the longest-unused ones of
   * the least worth keeping first: strikes or mismatches alone, then a past ban's record
   * (its next ban is longer), and a running ban only when every record is one. New ids are
   * cheap (a relay makes one per join), so an attacker flooding the book with fresh ids
   * each struck once must push out its own records, not end a real ban early.
   */
  #prune(bound: number): void {
    const now = this.clock.now();
    for (const [id, r] of this.#records) {
      this.#expire(r);
      const idle = r.strikes.length === 0 && r.bannedUntil <= now && r.mismatches === 0;
      if (idle && r.bans === 0) this.#records.delete(id);
    }
    const worth = (r: Conduct) => (r.bannedUntil > now ? 2 : r.bans > 0 ? 1 : 0);
    for (let keep = 0; keep <= 2 && this.#records.size > bound; keep++) {
      for (const [id, r] of this.#records) {
        if (this.#records.size <= bound) break;
        if (worth(r) === keep) this.#records.delete(id);
      }
    }
  }
}
