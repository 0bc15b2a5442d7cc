/**
 * Relayed control: a spectator with no connection to the coordinator watches the whole
 * game through its forwarder for the coordinator (input-relay.ts), the lowest-id player it
 * reaches that reaches the coordinator. That player, F, passes control on both ways in a
 * `relay` message naming the peer at the far end:
 * - admission: F passes the spectator's lobby `hello` on to the coordinator, which admits it
 *   as it admits any spectator; F passes the coordinator's `join` on to it and, at the join
 *   frame, sends it the snapshot of its own state there (every player's is the same), as
 *   from the coordinator;
 * - while it watches (it asks F for the coordinator's inputs, so F knows it takes control
 *   from F): F passes on every `join` and `drop` it gets, and on first serving it, the joins
 *   and drops it knows, those it stepped too (the spectator may be behind it). The spectator acknowledges each join to F, and F forwards it no
 *   input of a frame at or past a join it has not acknowledged, so it never steps the join
 *   frame without the joiner (the coordinator waits for the acknowledgement of members it
 *   reaches only; nobody waits for this spectator). F sends a join again after
 *   RELAYED_JOIN_RESEND_MS without acknowledgement.
 * A spectator takes relayed control only from its forwarder for the coordinator (before its
 * snapshot, from a member of the game that sent its join). Hashes go the same way between
 * a spectator and each player it takes inputs of through a forwarder (HashExchange
 * judges them one by one, never waiting for them). Trust: as with forwarded inputs,
 * F could mislead it (a join or drop that never was, another snapshot); only the spectators
 * that picked F see a wrong game. PROTOCOL.md, "Relayed control".
 */
import type { PeerId } from '../mesh/types.js';
import { admissionKey, byId, type DropMessage, type JoinMessage, type SessionCore } from './session-core.js';
import { MAX_RESEND_BACKLOG } from './input-exchange.js';
import { type Control, decodeControl, encodeControl, Kind } from './wire.js';

/** A relayed join not acknowledged this long after it was sent is sent again (the spectator may have been between forwarders). */
export const RELAYED_JOIN_RESEND_MS = 1000;
/** A spectator whose lobby hello we passed on is admitted through us if its join comes within this long. */
const VOUCH_MS = 30_000;

type Relay = Extract<Control, { kind: typeof Kind.relay }>;

export class ControlRelay<S, I> {
  /** Forwarder: spectators taking control from us, with the joins relayed to each and not acknowledged yet. */
  readonly #served = new Map<PeerId, Map<string, { atFrame: number; bytes: Uint8Array; origin: PeerId; sentAt: number }>>();
  /** Player: spectators whose lobby hello we passed on to the coordinator (clock time). */
  readonly #vouched = new Map<PeerId, number>();
  /** Player: spectators we admit for the coordinator: their snapshot goes as from it. */
  readonly #admitting = new Map<PeerId, PeerId>();
  /**
   * Spectator: the player that passed on the join we are in, if one did. Our snapshot comes
   * from it alone: any other member could otherwise relay one as from the coordinator, a
   * snapshot it may not send in its own name (session.ts checks a direct one's sender).
   */
  #joinRelayedBy: PeerId | undefined;

  constructor(private readonly c: SessionCore<S, I>) {}

  /** Forget everything of this game. */
  clear(): void {
    this.#served.clear();
    this.#vouched.clear();
    this.#admitting.clear();
    this.#joinRelayedBy = undefined;
  }

  // ---- a player passing control on -----------------------------------------------

  /**
   * A lobby hello of spectator `from` (its bytes `data`): if it has no connection to the
   * coordinator and we are the player it would pick to reach it, pass it on.
   */
  onLobbyHello(from: PeerId, m: Extract<Control, { kind: typeof Kind.hello }>, data: Uint8Array): void {
    if (this.c.role !== 'player' || this.c.status !== 'running' || m.started || m.role !== 'spectator') return;
    const coord = this.c.coordinator();
    if (!coord || coord === this.c.selfId || m.connected.includes(coord) || !this.c.room.peers.has(coord)) return;
    if (this.#forwarderFor(m.connected, coord) !== this.c.selfId) return;
    const now = this.c.clock.now();
    for (const [p, at] of this.#vouched) if (now - at >= VOUCH_MS) this.#vouched.delete(p);
    this.#vouched.set(from, now);
    this.c.sendCtl(coord, { kind: Kind.relay, peer: from, control: data });
  }

  /** We got a join or a drop from `origin`: pass it on to the spectators that take control from us. */
  passOn(origin: PeerId, m: JoinMessage | DropMessage): void {
    if (this.c.role !== 'player') return;
    if (m.kind === Kind.join && this.#vouched.has(m.peer) && m.role === 'spectator' && this.c.room.peers.has(m.peer)) {
      // Its admission: its join now, its snapshot at the join frame (Ticker, JoinProposals.sendSnapshot).
      this.#vouched.delete(m.peer);
      this.#admitting.set(m.peer, origin);
      this.#send(m.peer, origin, encodeControl(m));
      const at = this.c.snapshotsAt.get(m.atFrame) ?? [];
      if (!at.includes(m.peer)) at.push(m.peer);
      this.c.snapshotsAt.set(m.atFrame, at);
      return;
    }
    for (const to of this.#served.keys()) if (m.kind !== Kind.join || m.peer !== to) this.#relay(to, origin, m);
  }

  /** The coordinator that admitted `to` through us, if we admit it on its behalf (its snapshot goes as from it); once. */
  takeAdmission(to: PeerId): PeerId | undefined {
    const origin = this.#admitting.get(to);
    this.#admitting.delete(to);
    return origin;
  }

  /**
   * Each tick of a forwarder: `served` are the spectators asking us for the coordinator's
   * inputs, so taking control from us. A new one gets the joins and drops still ahead.
   */
  serve(served: ReadonlySet<PeerId>): void {
    for (const to of [...this.#served.keys()]) if (!served.has(to)) this.#served.delete(to);
    const now = this.c.clock.now();
    for (const to of served) {
      const pending = this.#served.get(to);
      if (pending) {
        for (const j of pending.values()) {
          if (now - j.sentAt < RELAYED_JOIN_RESEND_MS) continue;
          j.sentAt = now;
          this.#send(to, j.origin, j.bytes);
        }
        continue;
      }
      this.#served.set(to, new Map());
      // Joins we stepped already too (players admitted late, within MAX_RESEND_BACKLOG): the
      // spectator may be behind us (its snapshot from us, or its wants, came over a slow
      // link), and one that steps a join frame without the joiner goes wrong for good. One
      // it knows it acknowledges at once (that opens the gate below).
      const frame = this.c.sim?.frame ?? 0;
      const joins = new Map<PeerId, number>();
      for (const [f, ps] of this.c.joinsAt) for (const p of ps) joins.set(p, f);
      for (const p of this.c.streams.keys()) {
        const f = this.c.since.get(p);
        if (this.c.proposer.has(p) && f !== undefined && f > frame - MAX_RESEND_BACKLOG && !joins.has(p)) joins.set(p, f);
      }
      for (const [p, f] of joins) {
        if (p === to) continue;
        const join: JoinMessage = { kind: Kind.join, gen: this.c.gen, peer: p, role: 'player', atFrame: f, ...this.c.config, members: [] };
        this.#relay(to, this.c.proposer.get(p) ?? this.c.selfId, join);
      }
      this.#spectatorJoins(to, frame);
      // Drops we stepped already too: the spectator may be behind us (it lags by its link,
      // and changed forwarders as the leaver went), and without the drop it waits for the
      // leaver's inputs for good. One it applied or stepped past is ignored there (or makes
      // it rejoin, past-drop, as a drop it lacked must). Past MAX_RESEND_BACKLOG it is cut off anyway.
      for (const d of this.c.decidedDrops.values()) if (d.atFrame > frame - MAX_RESEND_BACKLOG) this.#relay(to, this.c.selfId, d);
    }
  }

  /**
   * On first serving `to`: the joins of the spectators admitted lately too. A spectator
   * admitted after `to`'s join was proposed is listed in `to`'s snapshot, which names no
   * spectator's admission, and its join passed on before we served `to` never reached it:
   * not knowing that admission, `to` took the spectator's own `leave` (which names it) for
   * one of an admission still to come, and listed it for as long as their connection
   * lasted. Not gated (see gate): nobody waits for a spectator at its join frame. One `to`
   * knows already, or saw end, it only acknowledges (Admission.onJoin).
   */
  #spectatorJoins(to: PeerId, frame: number): void {
    for (const p of this.c.spectators) {
      const f = this.c.since.get(p);
      if (p === to || !this.c.proposer.has(p) || f === undefined || f <= frame - MAX_RESEND_BACKLOG) continue;
      const join: JoinMessage = { kind: Kind.join, gen: this.c.gen, peer: p, role: 'spectator', atFrame: f, ...this.c.config, members: [] };
      this.#send(to, this.c.proposer.get(p)!, encodeControl(join));
    }
  }

  /** The first frame of forwarded inputs `to` may not have yet: that of the first join relayed to it and not acknowledged. */
  gate(to: PeerId): number {
    let gate = Infinity;
    for (const j of this.#served.get(to)?.values() ?? []) gate = Math.min(gate, j.atFrame);
    return gate;
  }

  /** Spectator `from` acknowledged a join we relayed. */
  acked(from: PeerId, peer: PeerId, atFrame: number): void {
    this.#served.get(from)?.delete(admissionKey(peer, atFrame));
  }

  #relay(to: PeerId, origin: PeerId, m: JoinMessage | DropMessage): void {
    const bytes = encodeControl(m);
    if (m.kind === Kind.join) this.#served.get(to)?.set(admissionKey(m.peer, m.atFrame), { atFrame: m.atFrame, bytes, origin, sentAt: this.c.clock.now() });
    this.#send(to, origin, bytes);
  }

  #send(to: PeerId, origin: PeerId, control: Uint8Array): void {
    this.c.sendCtl(to, { kind: Kind.relay, peer: origin, control });
  }

  /**
   * The player a spectator connected to `connected` picks to reach `coord` (input-relay.ts's
   * rule, from our side): the lowest-id player among them, other than `coord`, not leaving
   * or dropped, that reaches `coord` (our own connection, or its latest hello).
   */
  #forwarderFor(connected: readonly PeerId[], coord: PeerId): PeerId | undefined {
    const reaches = (q: PeerId) => (q === this.c.selfId ? this.c.room.peers.has(coord) : (this.c.peerLinks.get(q)?.has(coord) ?? false));
    const candidates = connected.filter((q) => q !== coord && this.c.isPlayer(q) && !this.c.leaving.has(q) && !this.c.dropped.has(q) && reaches(q));
    return candidates.sort(byId)[0];
  }

  // ---- receiving relayed control ----------------------------------------------------

  /**
   * A `relay` from `from`: the coordinator takes a spectator's lobby hello from a player of
   * its game; a spectator takes a join, drop or snapshot from the player it takes control
   * from. `dispatch` handles the inner message as if `m.peer` had sent it.
   */
  onRelay(from: PeerId, m: Relay, dispatch: (origin: PeerId, data: Uint8Array) => void): void {
    const inner = decodeControl(m.control);
    if (inner.kind === Kind.hash) return this.#onRelayedHash(from, m.peer, inner);
    if (this.c.role === 'player') {
      if (inner.kind !== Kind.hello || this.c.status !== 'running' || this.c.coordinator() !== this.c.selfId) return this.c.log(`ignoring a relayed message from ${from}: we are no coordinator taking one`);
      if (!this.c.isPlayer(from) || this.c.leaving.has(from)) return this.c.badMessage(from, `a relayed hello from ${from}, not a player of our game`);
      if (this.c.room.peers.has(m.peer)) return; // it says hello to us itself
      return dispatch(m.peer, m.control);
    }
    if (inner.kind !== Kind.join && inner.kind !== Kind.drop && inner.kind !== Kind.snapshot) return this.c.badMessage(from, `a relayed control message of kind ${inner.kind}`);
    const why = this.#refusal(from, inner);
    if (why) return this.c.log(`ignoring a ${kindName(inner.kind)} relayed by ${from} as from ${m.peer}: ${why}`);
    const wasLobby = this.c.status === 'lobby';
    dispatch(m.peer, m.control);
    if (wasLobby && this.c.status === 'joining') this.#joinRelayedBy = from;
    // Our acknowledgement opens the forwarder's inputs past the join frame (see gate).
    if (inner.kind === Kind.join && inner.peer !== this.c.selfId && this.c.status !== 'lobby') this.c.sendCtl(from, { kind: Kind.joinAck, gen: inner.gen, peer: inner.peer, atFrame: inner.atFrame });
  }

  // ---- hashes between a spectator and the players it reaches only through a forwarder ----

  /** Our hash of a frame: a spectator sends it to each of its forwarders, to pass on to the players it asks them for. */
  relayOwnHash(m: Extract<Control, { kind: typeof Kind.hash }>): void {
    if (this.c.role !== 'spectator') return;
    const control = encodeControl(m);
    for (const q of this.c.relay.forwarders()) this.c.sendCtl(q, { kind: Kind.relay, peer: this.c.selfId, control });
  }

  /** A forwarder got player `from`'s hash: the spectators taking `from`'s inputs from us get it too. */
  passOnHash(from: PeerId, m: Extract<Control, { kind: typeof Kind.hash }>): void {
    if (this.c.role !== 'player') return;
    const wanting = this.c.relay.wantersOf(from);
    if (wanting.length === 0) return;
    const control = encodeControl(m);
    for (const to of wanting) this.c.sendCtl(to, { kind: Kind.relay, peer: from, control });
  }

  #onRelayedHash(from: PeerId, origin: PeerId, m: Extract<Control, { kind: typeof Kind.hash }>): void {
    if (m.gen !== this.c.gen || this.c.status !== 'running') return;
    if (this.c.role === 'player' && origin === from) {
      // A spectator's own hash, to pass on to the players whose inputs it takes from us.
      if (!this.c.spectators.has(from)) return this.c.badMessage(from, `a hash to pass on from ${from}, not a spectator of our game`);
      const control = encodeControl(m);
      for (const p of this.c.relay.wantedBy(from)) if (p !== this.c.selfId) this.c.sendCtl(p, { kind: Kind.relay, peer: from, control });
      return;
    }
    // A hash relayed to us: from a player, of a member we have no connection to that takes
    // our inputs from it (we are a player), or of a player whose inputs we take from it.
    const fits = this.c.role === 'player' ? this.c.isPlayer(from) && this.c.spectators.has(origin) && !this.c.room.peers.has(origin) : this.c.relay.forwarderOf(origin) === from;
    if (!fits) return this.c.log(`ignoring ${origin}'s hash relayed by ${from}`);
    this.c.delays.announced(origin, m.delay); // a player's, for our time sync (a spectator's is not kept)
    this.c.hashing.onRelayedHash(origin, m.frame, m.hash, m.players);
  }

  /** Why a spectator does not take relayed `m` from `from` as from `origin`, if it does not. */
  #refusal(from: PeerId, m: Control): string | undefined {
    if (this.c.status === 'lobby') {
      if (m.kind !== Kind.join || m.peer !== this.c.selfId) return 'we are in the lobby';
      return m.members.some(([, p]) => p === from) ? undefined : `${from} is no member of that game`;
    }
    if (this.c.status === 'joining') {
      if (m.kind === Kind.snapshot) return from === this.#joinRelayedBy ? undefined : 'it did not pass our join on';
      return this.c.streams.has(from) ? undefined : `${from} is no member of our game`;
    }
    const via = this.c.relay.controlForwarder();
    return via === from ? undefined : `we take control from ${via ?? 'nobody'}`;
  }
}

const kindName = (k: number) => (k === Kind.join ? 'join' : k === Kind.drop ? 'drop' : 'snapshot');
