/**
 * A spectator's own links to the players. What a spectator sees of its connections
 * concerns only itself: it never announces a player as gone, and the players never take
 * its word for it (drops rest on the players' own views, see DropAgreement). A spectator
 * whose connection to a player closed keeps stepping with the inputs it has (from then on
 * forwarded by another player, input-relay.ts) and gives the players LINK_GRACE_MS to
 * settle it with a drop of that player (it really left; the spectator follows the drop as
 * usual). If it still lacks that player's inputs then (nobody forwards them), or that player
 * is the coordinator and nobody passes its joins and drops on (control-relay.ts), or its
 * connection to that player opens again first while nobody forwards for it (the player saw
 * it close too, and stopped sending it anything), it goes back to the lobby
 * (`player-unreachable`) and is admitted again with a snapshot once it reaches a player
 * again; so it does, after the same grace, whenever else nobody forwards the inputs of a
 * player that reach it only forwarded. With every player gone from its view (no
 * connection to any, players it never reached included) it does so at once (`players-gone`).
 * PROTOCOL.md, "Leave and drop", "Forwarded inputs" and "Relayed control".
 */
import type { PeerId } from '../mesh/types.js';
import type { TimerHandle } from '../util/clock.js';
import type { SessionCore } from './session-core.js';

/**
 * How long a spectator whose connection to a player closed (and did not open again) waits
 * for the players' verdict, a drop of that player, before it goes back to the lobby. Longer than the
 * players take to notice a player that really vanished and agree on its drop (a mesh
 * heartbeat timeout, 2.25 s by default, and a round trip), so it follows such a drop
 * instead of starting over.
 *
 * @example
 * ```ts
 * // Spectator w lost its connection to player c at t; at t + LINK_GRACE_MS:
 * if (!streams.get('c')!.has(frame)) rejoin('player-unreachable');
 * ```
 */
export const LINK_GRACE_MS = 5000;

/** A spectator's lost connections to players, and when it gives up on following them (see the file comment). */
export class SpectatorLinks<S, I> {
  /** Players whose connection closed in our view, with the timer that checks on each. */
  readonly #lost = new Map<PeerId, TimerHandle>();
  /** Players whose inputs nobody forwards to us (input-relay.ts), with the timer that checks on each. */
  readonly #unforwarded = new Map<PeerId, TimerHandle>();

  constructor(private readonly c: SessionCore<S, I>) {}

  /** Our connection to player `id` closed (we are a spectator): wait, never announce it. */
  lost(id: PeerId, what = `connection to player ${id} closed`): void {
    if (this.#lost.has(id) || this.c.leaving.has(id) || this.c.dropped.has(id)) return;
    this.c.log(`${what}: waiting up to ${LINK_GRACE_MS} ms for the players to drop it`);
    this.#lost.set(id, this.c.clock.setTimeout(() => this.#check(id, what), LINK_GRACE_MS));
    this.rejoinIfAllGone();
  }

  /**
   * No player we reach forwards the inputs of player `id`, which reach us only forwarded (we
   * have no connection to it, or took them forwarded in this admission: it stopped sending
   * to us when our old connection closed). Left so, we froze for good, still listed by the
   * players: a forwarder that went after the grace for our own lost connection to `id` ran
   * out (or one the connection to `id` opened again under) gave no other chance to notice.
   * The same grace, then back to the lobby. Not a player out of our view (rejoinIfAllGone):
   * one we have a connection to may still forward others' inputs, or be dropped.
   */
  unforwarded(id: PeerId): void {
    if (this.#unforwarded.has(id) || !this.#following(id)) return;
    const what = `no player we reach forwards ${id}'s inputs`;
    this.c.log(`${what}: waiting up to ${LINK_GRACE_MS} ms for the players to drop it`);
    this.#unforwarded.set(id, this.c.clock.setTimeout(() => {
      this.#unforwarded.delete(id);
      // Dropped meanwhile (it left); a lost link to it has its own check.
      if (this.#following(id) && !this.#lost.has(id)) this.#inputsCome(id, what);
    }, LINK_GRACE_MS));
  }

  /**
   * Our connection to `id` opened again. If it was a player we lost, that player saw the
   * old connection close as well and stopped sending us inputs (it forgot us as a
   * spectator), so we cannot follow it any more: start over now rather than at the end of
   * the grace period.
   */
  back(id: PeerId): void {
    if (!this.#lost.has(id) || !this.#following(id)) return;
    this.#forget(id);
    // Its inputs reach us forwarded (input-relay.ts), and if it is the coordinator, its
    // control too (control-relay.ts): we need nothing from it directly.
    if (this.c.relay.forwarded(id) && (this.c.coordinator() !== id || this.c.relay.controlForwarder() !== undefined)) return;
    this.c.admission.rejoin('player-unreachable', `our connection to player ${id} is open again, but it stopped sending us inputs when the old one closed`, { announce: true });
  }

  /**
   * With every player leaving, dropped or unreachable in our view, nobody can decide the
   * drops or send us inputs: back to the lobby, to be admitted again once connected to a
   * coordinator (our hello from then on says "not started").
   */
  rejoinIfAllGone(): void {
    if (this.c.role !== 'spectator' || this.c.status !== 'running') return;
    const players = this.c.sim?.players ?? [];
    // A player we never had a connection to (its inputs came forwarded) is out of our view
    // too: with no connection to any player, nobody forwards us anything, and no player's
    // hello lists us, so every player forgets us (Departures.reached) while we would wait,
    // frozen, and follow nobody when a connection to one opens again.
    if (!players.every((p) => this.c.leaving.has(p) || this.c.dropped.has(p) || this.#lost.has(p) || !this.c.room.peers.has(p))) return;
    const gone = players.filter((p) => !this.c.dropped.has(p));
    this.c.admission.rejoin('players-gone', `every player is gone from our view (${gone.join(', ')})`, { announce: true });
  }

  /**
   * Each tick of a running spectator: the coordinator (its joins and drops reach us from it
   * alone) must be one we have a connection to. One we have none to (it changed to a player
   * we never reached) counts as a lost link: after LINK_GRACE_MS we go back to the lobby.
   */
  checkCoordinator(): void {
    if (this.c.role !== 'spectator' || this.c.status !== 'running') return;
    const coord = this.c.coordinator();
    if (coord !== undefined && coord !== this.c.selfId && this.#coordinatorOutOfReach(coord)) this.lost(coord, `the coordinator ${coord} is out of our reach`);
  }

  /** Forget every lost link and its timer (we left this admission, or stopped). */
  clear(): void {
    for (const t of [...this.#lost.values(), ...this.#unforwarded.values()]) this.c.clock.clearTimeout(t);
    this.#lost.clear();
    this.#unforwarded.clear();
  }

  /**
   * No connection to the coordinator (or it is a player whose inputs we took forwarded in
   * this admission: our link to it was down, and it stopped sending to us then), and no
   * player that reaches it to pass its joins and drops on to us (control-relay.ts).
   */
  #coordinatorOutOfReach(coord: PeerId): boolean {
    return (!this.c.room.peers.has(coord) || this.c.relay.forwarded(coord)) && this.c.relay.controlForwarder() === undefined;
  }

  #forget(id: PeerId): void {
    const t = this.#lost.get(id);
    if (t !== undefined) this.c.clock.clearTimeout(t);
    this.#lost.delete(id);
  }

  /** We still follow `id` as a player: not gone from the game, not announced leaving (the players' drop settles that). */
  #following(id: PeerId): boolean {
    if (this.c.role !== 'spectator' || (this.c.status !== 'running' && this.c.status !== 'joining')) return false;
    return this.c.streams.has(id) && !this.c.leaving.has(id) && !this.c.dropped.has(id);
  }

  #check(id: PeerId, what: string): void {
    this.#lost.delete(id);
    if (!this.#following(id)) return;
    // Joins and drops come from the coordinator, or a player passing them on: we must reach one.
    if (this.c.coordinator() === id && this.#coordinatorOutOfReach(id)) {
      return this.c.admission.rejoin('player-unreachable', `no connection to the coordinator ${id} for ${LINK_GRACE_MS} ms, nor to a player that reaches it: its joins and drops cannot reach us`, { announce: true });
    }
    this.#inputsCome(id, what);
  }

  /** The end of the grace for `id`'s inputs (its connection closed, or nobody forwards them): they come, or back to the lobby. */
  #inputsCome(id: PeerId, what: string): void {
    const need = this.c.sim?.frame ?? this.c.since.get(this.c.selfId) ?? 0;
    if (this.c.streams.get(id)!.next > need) return; // its inputs reach us after all (perhaps forwarded)
    this.c.admission.rejoin(
      'player-unreachable',
      `no input from player ${id} for ${LINK_GRACE_MS} ms (${what}), and no drop of it (we are at frame ${need})`,
      { announce: true },
    );
  }
}
