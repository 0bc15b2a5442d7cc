/**
 * Members never heard from. Every member sends every other one an input packet each tick
 * (a spectator's carries only acks), from the moment it begins. One listed by a start or
 * a join that has sent nothing is not playing: it missed or ignored the start (it was in
 * no lobby, its session had stopped, another start reached it first), or there is no
 * working link between us. Lockstep cannot step without a player's inputs, and a join
 * waits for every member's acknowledgement, so without this bound one such member froze
 * the game for everyone, with nothing but a `stall` event. After SILENT_MEMBER_MS it is
 * `absent`: a player is announced gone and dropped at a frame the players agree on (as if
 * it had left); a spectator is announced gone too and stops being a member for every
 * player (those that cannot reach it included); a player silent towards a spectator
 * is that spectator's own trouble (spectator-links.ts). PROTOCOL.md, "Silent members".
 */
import type { PeerId } from '../mesh/types.js';
import { MeshpartyError } from '../util/errors.js';
import type { SessionCore } from './session-core.js';
import { Kind } from './wire.js';

/**
 * How long a member may go unheard after its admission (our start, its join, or our
 * snapshot) before it counts as absent. A working member is heard within a tick or two;
 * this leaves room for a start that reaches a slow tab late.
 *
 * @example
 * ```ts
 * session.on('absent', ({ peer, reason }) => toast(`${peer} never joined the game (${reason.code})`));
 * ```
 */
export const SILENT_MEMBER_MS = 10_000;

export class SilentMembers<S, I> {
  /** Members not heard from yet in their current admission, with the clock time we began waiting. */
  readonly #waiting = new Map<PeerId, number>();

  constructor(private readonly c: SessionCore<S, I>) {}

  /** Start waiting to hear from `peer` (a new admission of it, or of us). */
  expect(peer: PeerId): void {
    if (peer !== this.c.selfId) this.#waiting.set(peer, this.c.clock.now());
  }

  /** A packet of this admission came from `peer`: it plays. */
  heard(peer: PeerId): void {
    this.#waiting.delete(peer);
  }

  /**
   * Our connection to `peer` opened. A spectator we had no connection to watched through a
   * forwarder, and no packet of it could reach us: we wait for one from now on. Counted
   * from its admission, one whose connection opened just before SILENT_MEMBER_MS ran out
   * was forgotten by us and by every player as silent (we announce it), while it ran on,
   * frozen, its wants refused by every forwarder (it is no spectator of theirs).
   */
  opened(peer: PeerId): void {
    if (this.#waiting.has(peer) && this.c.spectators.has(peer)) this.#waiting.set(peer, this.c.clock.now());
  }

  /** Whether we still wait for a first packet of `peer`'s current admission. */
  unheard(peer: PeerId): boolean {
    return this.#waiting.has(peer);
  }

  /** Wait afresh for those not heard yet (a joiner starts running once its snapshot is in). */
  restart(): void {
    const now = this.c.clock.now();
    for (const p of this.#waiting.keys()) this.#waiting.set(p, now);
  }

  clear(): void {
    this.#waiting.clear();
  }

  /** Called while running: give up on members unheard for SILENT_MEMBER_MS. */
  check(): void {
    const now = this.c.clock.now();
    for (const [peer, since] of [...this.#waiting]) {
      // Gone some other way already (left, dropped, cancelled): nothing to do.
      if (!this.c.isMember(peer) || this.c.leaving.has(peer) || this.c.dropped.has(peer)) {
        this.#waiting.delete(peer);
        continue;
      }
      if (now - since < SILENT_MEMBER_MS) continue;
      this.#waiting.delete(peer);
      const isPlayer = this.c.streams.has(peer);
      // A spectator has no say about who plays, and needs nothing from other spectators.
      if (this.c.role === 'spectator' && !isPlayer) continue;
      // A spectator we have no connection to is not silent but out of our reach: it watches
      // through a forwarder (input-relay.ts) and needs nothing from us.
      if (!isPlayer && !this.c.room.peers.has(peer)) continue;
      const why = `nothing heard from ${isPlayer ? 'player' : 'spectator'} ${peer} within ${SILENT_MEMBER_MS} ms of its admission`;
      this.c.log(`${why}: playing on without it`);
      this.c.events.emit('absent', { peer, role: isPlayer ? 'player' : 'spectator', frame: this.c.frame, reason: new MeshpartyError('member-silent', why, { peer }) });
      if (this.c.role === 'spectator') this.c.links.lost(peer);
      else {
        // A spectator silent over a working connection is not in the game (its session
        // stopped before our join reached it, say). The players with no connection to it
        // never count it silent, and our hello still lists it as connected (Departures.reached):
        // so we pass its departure on, as for its own leave, or they would list it for good.
        const since = this.c.since.get(peer) ?? 0;
        this.c.departures.departed(peer);
        if (!isPlayer) for (const p of this.c.members()) this.c.sendCtl(p, { kind: Kind.leave, gen: this.c.gen, peer, since });
        this.c.departures.tryDecideDrops();
      }
    }
  }
}
