/**
 * Input delays after the start: this player's own, adapted during the game when its
 * `inputDelay` option is `'auto'`, and an estimate of every other player's, for time sync.
 *
 * Each player may change its own delay on its own, as GGPO-style netcode does: inputs are
 * keyed by frame, and every frame still gets exactly one input of every player, which is
 * sent like any other, so every member steps the same inputs. Raising the delay from `d`
 * to `d + 1` at frame `t` (inputs sampled up to `t + d`) fills frame `t + d + 1` with this
 * player's previous input repeated (the frame the raise opens) and samples the next input
 * for `t + d + 2`; lowering it skips one tick's sampling (the frame it would have sampled
 * is covered already). The start's delay (the
 * agreed `SessionConfig.delay`) stays what it was: it is the neutral prefill of every
 * player's stream at a start or a join, which every member must agree on.
 *
 * What a raise answers: the round trip to the other players (the mesh's smoothed RTT: its
 * one-way half must fit in the delay, as at the start, `ceil(rtt / 2 / frameMs) + 2`), and
 * inputs arriving late (this peer stalled waiting for other players' inputs at
 * STALLS_TO_RAISE frames within STALL_WINDOW_MS: on a link that got worse everyone stalls
 * alike, before the smoothed RTT has caught up; each such burst adds a frame of margin, at
 * most MAX_STALL_MARGIN, one taken back after every MARGIN_HOLD_MS without such a stall).
 * Only stalls that more delay would have prevented count: a stall's length is the time from
 * the stall until its frame could step, and a stall longer than ABSORBABLE_FRAMES frames (a
 * freeze: wifi scanning, a GC pause on a phone) is ignored, since a margin that absorbed it
 * would add that much lag to every input for the rare moment it helps; a freeze also does
 * not hold the margin up. Our margin shortens our stalls only when the players we wait on
 * raise theirs too (it is their inputs that come late): a burst of stalls whose mean
 * length is not half a frame shorter than the burst that raised the last frame of margin
 * takes that frame back instead (a freeze in pieces each only partly hidden by the delay,
 * 3 × 130 ms say, left stalls short enough to count, one burst a scan, and took every
 * player's margin up a frame a scan, for good with scans 6 s apart), and bursts no longer
 * than that raise nothing while they keep coming within MARGIN_HOLD_MS. A
 * delay below what is wanted is raised one frame a tick; one above it is lowered one frame
 * only after what is wanted stayed lower for LOWER_AFTER_MS, and what is wanted when
 * lowering counts half a frame more of one-way latency than when raising (hysteresis: an
 * RTT wavering at a frame boundary does not make the delay go up and down).
 *
 * Other players' delays are needed for time sync (Ticker.estimateAdvantage tells a
 * player's frame from the next frame of its inputs, `frame + delay + 1`): each `hash` a
 * player sends carries its current delay (wire version 9), the start's delay until one
 * came. Reading it off the input packets alone (the first packet after a player's hash of
 * `F` ends at `F + delay + 1`) was tried: with 50 ms of jitter the readings spread over
 * ±3 frames, skewed up by the reliable channel's head-of-line wait, and the game ran 3%
 * slow on the resulting time sync.
 */
import type { PeerId } from '../mesh/types.js';
import type { SessionCore } from './session-core.js';
import { MAX_WIRE_INPUT_DELAY } from './wire.js';

/** The input delay stays within these bounds, in frames. */
export const MIN_INPUT_DELAY = 0;
export const MAX_INPUT_DELAY = MAX_WIRE_INPUT_DELAY;
/** What is wanted must stay below the delay this long before the delay goes down one frame. */
export const LOWER_AFTER_MS = 3000;
/** Stalls on other players' inputs at this many frames within STALL_WINDOW_MS add a frame of margin. */
export const STALLS_TO_RAISE = 3;
export const STALL_WINDOW_MS = 1000;
/** The most frames of margin stalls add on top of what the round trip needs. */
export const MAX_STALL_MARGIN = 10;
/** A frame of margin is taken back after this long without a stall that counts. */
export const MARGIN_HOLD_MS = 10_000;
/**
 * A stall counts toward margin only if its frame could step within this many frames of
 * waiting: lateness a few frames of delay absorb (jitter), not a freeze no margin short of
 * its whole length would hide.
 */
export const ABSORBABLE_FRAMES = 3;

export class InputDelay<S, I> {
  /** This player's current input delay (frames between sampling an input and stepping it). */
  current = 2;
  /** Frames added for late inputs on top of what the round trip needs. */
  #margin = 0;
  /** For each frame of margin, the mean length of the stalls that raised it (ms), oldest first. */
  #raisedFor: number[] = [];
  /** Stalls this long (ms) that a frame of margin did not shorten, and when such stalls last came. */
  #futile: { len: number; at: number } | undefined;
  /** Since when what is wanted stays below `current` (undefined: it does not). */
  #lowSince: number | undefined;
  #stalls: Array<{ at: number; len: number }> = [];
  /** When this peer began waiting on other players for the frame it is at (undefined: it is not). */
  #stalledSince: number | undefined;
  #lastStallAt = -Infinity;
  #lastMarginDrop = -Infinity;
  /** The delay each other player's latest hash announced. */
  #remote = new Map<PeerId, number>();

  constructor(private readonly c: SessionCore<S, I>) {}

  /** Whether this peer adapts its own delay: its `inputDelay` option is `'auto'`, and it plays. */
  get adaptive(): boolean {
    return this.c.opts.inputDelay === 'auto' && this.c.role === 'player';
  }

  /** A game begins here (a start, or a join's snapshot): the delay is the agreed one again. */
  reset(delay: number): void {
    this.current = delay;
    this.#margin = 0;
    this.#raisedFor = [];
    this.#futile = undefined;
    this.#lowSince = undefined;
    this.#stalls = [];
    this.#stalledSince = undefined;
    this.#lastStallAt = -Infinity;
    this.#lastMarginDrop = -Infinity;
    this.#remote.clear();
  }

  /** A new stall (once per frame) waiting for `waitingOn`. */
  stalled(waitingOn: readonly PeerId[]): void {
    if (!waitingOn.some((p) => p !== this.c.selfId)) return; // our own inputs held back (a join's gate), not lateness
    this.#stalledSince = this.c.clock.now();
  }

  /**
   * A frame stepped. If it had stalled on other players, the stall is over and its length
   * known: only one short enough for a few frames of delay to absorb counts toward margin.
   */
  stepped(): void {
    if (this.#stalledSince === undefined) return;
    const now = this.c.clock.now();
    const waited = now - this.#stalledSince;
    this.#stalledSince = undefined;
    const frameMs = 1000 / this.c.config.tickHz;
    if (waited > ABSORBABLE_FRAMES * frameMs) return; // a freeze: more delay would not have hidden it
    this.#lastStallAt = now;
    this.#stalls = this.#stalls.filter((t) => now - t.at < STALL_WINDOW_MS);
    this.#stalls.push({ at: now, len: waited });
    if (this.#stalls.length < STALLS_TO_RAISE) return;
    const len = this.#stalls.reduce((sum, t) => sum + t.len, 0) / this.#stalls.length;
    this.#stalls = [];
    // Our margin shortens the stalls only when the players we wait on raise theirs too (their
    // inputs come late, not ours): a raise after which they are as long as before did not
    // help, and is taken back (a freeze in pieces, each only partly hidden by the delay).
    const last = this.#raisedFor[this.#raisedFor.length - 1];
    if (last !== undefined && len > last - frameMs / 2) {
      this.#raisedFor.pop();
      this.#margin--;
      this.#lastMarginDrop = now;
      this.#futile = { len, at: now };
      return;
    }
    // Nor raised again for stalls no longer than those it did not help with, while they keep coming.
    if (this.#futile && now - this.#futile.at < MARGIN_HOLD_MS && len <= this.#futile.len + frameMs / 2) {
      this.#futile.at = now;
      return;
    }
    if (this.#margin >= MAX_STALL_MARGIN) return;
    this.#margin++;
    this.#raisedFor.push(len);
  }

  /** Once per tick while running: move this player's delay one frame toward what is wanted, if it is time to. */
  adapt(): void {
    const sim = this.c.sim;
    if (!this.adaptive || !sim) return;
    const now = this.c.clock.now();
    const frameMs = 1000 / this.c.config.tickHz;
    const since = Math.max(this.#lastStallAt, this.#lastMarginDrop);
    if (this.#margin > 0 && now - since >= MARGIN_HOLD_MS) {
      this.#margin--;
      this.#raisedFor.pop();
      this.#lastMarginDrop = now;
    }
    let rtt = 0;
    for (const p of sim.players) {
      if (p === this.c.selfId || this.c.leaving.has(p)) continue;
      rtt = Math.max(rtt, this.c.room.peers.get(p)?.rttMs ?? 0);
    }
    const wanted = (extraOneWayMs: number) =>
      clampDelay(Math.ceil((rtt / 2 + extraOneWayMs) / frameMs) + 2 + this.#margin);
    if (wanted(0) > this.current) {
      this.#lowSince = undefined;
      return this.#set(this.current + 1);
    }
    if (wanted(frameMs / 2) >= this.current) {
      this.#lowSince = undefined;
      return;
    }
    this.#lowSince ??= now;
    if (now - this.#lowSince < LOWER_AFTER_MS) return;
    this.#lowSince = now; // the next frame down waits as long again
    this.#set(this.current - 1);
  }

  #set(delay: number): void {
    const previous = this.current;
    if (delay === previous) return;
    const sim = this.c.sim!;
    const mine = this.c.streams.get(this.c.selfId);
    // Raised: the frame it opens is our previous input repeated, when we had sampled up to
    // the old delay (otherwise produceInputs catches up as it always does). Lowered: nothing
    // to do here; produceInputs samples nothing until the frame is due.
    if (delay > previous && mine && this.c.myNext === sim.frame + previous + 1 && this.c.myNext <= Math.min(sim.frame + delay, this.c.proposals.gateFrame() - 1)) {
      mine.put(this.c.myNext, mine.get(this.c.myNext - 1) ?? this.c.localInput);
      this.c.myNext++;
    }
    this.current = delay;
    this.c.events.emit('input-delay', { frame: sim.frame, delay, previous });
  }

  /** A player's `hash` (straight from it, or relayed by our forwarder for it) announced its current delay. */
  announced(from: PeerId, delay: number): void {
    if (this.c.streams.has(from) && from !== this.c.selfId) this.#remote.set(from, delay);
  }

  /** `player`'s input delay as it last announced it (the start's until then); ours for us. */
  of(player: PeerId): number {
    if (player === this.c.selfId) return this.current;
    return this.#remote.get(player) ?? this.c.config.delay;
  }

  /** `player` left the game (or this admission of it ended). */
  forget(player: PeerId): void {
    this.#remote.delete(player);
  }
}

/** A delay within MIN_INPUT_DELAY–MAX_INPUT_DELAY. */
export function clampDelay(delay: number): number {
  return Math.max(MIN_INPUT_DELAY, Math.min(MAX_INPUT_DELAY, delay));
}
