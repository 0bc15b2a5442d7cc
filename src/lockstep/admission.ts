/**
 * Being admitted, from the member's and the joiner's side: a member applies a join the
 * coordinator proposed (or defers it behind an earlier admission of the same peer, or
 * cancels it when its proposer is dropped first); the joiner learns the session from its
 * join, loads the snapshot, or goes back to the lobby and says hello again.
 * PROTOCOL.md, "Lockstep wire format" (late join, the proposer leaves, rejoining).
 */
import type { PeerId } from '../mesh/types.js';
import { MeshpartyError } from '../util/errors.js';
import { MAX_RESEND_BACKLOG } from './input-exchange.js';
import { RELAY_KEEP_FRAMES } from './input-relay.js';
import { InputStream } from './input-stream.js';
import { Recorder } from './replay.js';
import { Simulation } from './simulation.js';
import { admissionKey, type JoinMessage, type SessionCore } from './session-core.js';
import { type Control, Kind, type Role } from './wire.js';

/** Why a peer goes back to the lobby to be admitted again (the `rejoining` event's `reason.code`). */
export type RejoinCode = 'fell-behind' | 'players-gone' | 'player-unreachable' | 'inputs-lost' | 'past-drop' | 'coordinator-left' | 'join-cancelled' | 'join-dropped' | 'no-snapshot' | 'dropped' | 'split';

/**
 * How long a joiner waits for the snapshot of the coordinator that admitted it before it
 * goes back to the lobby (`no-snapshot`). An honest coordinator sends it when it steps the
 * join frame, a fraction of a second after the join (a stall over a vanished player adds a
 * heartbeat timeout and a round trip). Any peer of the room can send a `join`, and a peer
 * that sent one and then nothing would otherwise keep us joining for good.
 *
 * @example
 * ```ts
 * // In the joiner's tick:
 * if (status === 'joining' && now - joinedAt >= SNAPSHOT_DEADLINE_MS) rejoin('no-snapshot');
 * ```
 */
export const SNAPSHOT_DEADLINE_MS = 10_000;
/**
 * After each admission in a row that ended `no-snapshot`, the next waits twice as long, up
 * to 2^3 times SNAPSHOT_DEADLINE_MS (80 s); a start sets it back. A big state over a slow
 * link can take longer than the deadline to arrive while it is arriving all along: with a
 * fixed deadline, such a joiner gave up every time just before its snapshot came, and was
 * sent the whole state again, for good. The price: a peer forging a join each time we are
 * back in the lobby holds us up to 80 s per forged join instead of 10 s (one forging them
 * without pause could keep us out for good either way).
 */
const MAX_SNAPSHOT_DEADLINE_DOUBLINGS = 3;

/** How Admission.rejoin leaves the game. */
interface RejoinOptions {
  /** Tell the members we leave (they drop us at an agreed frame, as any player); false when they know already. */
  announce: boolean;
  /** More of the `rejoining` reason's detail (its `frame` is always there). */
  detail?: Record<string, unknown>;
  /**
   * Default true: our next admission starts past every frame of this one. False when no
   * packet of this admission can reach the game we go to (split-games.ts).
   */
  raiseFloor?: boolean;
}

export class Admission<S, I> {
  constructor(private readonly c: SessionCore<S, I>) {}

  sayHello(): void {
    if (this.c.status === 'stopped') return;
    // In the lobby, repeat every second: a hello sent the instant a connection opens can
    // reach the other side before its end of the connection is open, and be lost.
    if (this.c.status === 'lobby' && this.c.helloTimer === undefined) {
      this.c.helloTimer = this.c.clock.setTimeout(() => {
        this.c.helloTimer = undefined;
        this.c.lobbyWait.check();
        if (this.c.status === 'lobby') this.sayHello();
      }, 1000);
    }
    for (const p of this.c.room.peers.keys()) this.sayHelloTo(p);
  }

  /** Our hello to one peer: our role, whether we play, whom we are connected to, our `after`, our game's players and frame (split-games.ts). */
  sayHelloTo(peer: PeerId): void {
    this.c.sendCtl(peer, { kind: Kind.hello, role: this.c.role, started: this.c.status !== 'lobby', connected: [...this.c.room.peers.keys()], after: this.c.notBefore, players: this.c.splits.players(), frame: this.c.splits.frameFor(peer) });
  }

  /** Every member: from `atFrame` on, `peer` plays (or watches); `proposer` is the coordinator that admitted it. */
  applyJoin(peer: PeerId, role: Role, atFrame: number, proposer: PeerId): void {
    this.c.proposer.set(peer, proposer);
    this.c.lastAdmission.set(peer, Math.max(atFrame, this.c.lastAdmission.get(peer) ?? 0));
    // Only a hello received after this admission may start another. One kept from before
    // is not always taken for stale (not when this admission ends without a packet of the
    // peer, JoinProposals.maybeAdmit): it would admit a peer whose session stopped again and again.
    this.c.hellos.delete(peer);
    if (role === 'player') {
      const list = this.c.joinsAt.get(atFrame) ?? [];
      if (!list.includes(peer)) list.push(peer);
      this.c.joinsAt.set(atFrame, list);
      this.c.streams.set(peer, new InputStream(atFrame, this.c.config.delay, this.c.neutral));
    } else {
      this.c.spectators.add(peer);
    }
    this.c.receivers.set(peer, atFrame);
    this.c.since.set(peer, atFrame);
    this.c.silent.expect(peer);
    if (role === 'spectator') this.c.events.emit('player-joined', { peer, atFrame, role });
  }

  /** The late joiner itself: learn the session, wait for the snapshot. */
  onJoinSelf(from: PeerId, m: JoinMessage): void {
    if (this.c.status === 'stopped') return;
    if (this.c.joinedVia === from && this.c.since.get(this.c.selfId) === m.atFrame) return; // the same admission again
    // A floor this far past the join frame is no frame of this game (JoinProposals.maybeAdmit
    // says why): a forged join we took put it there, and honouring it would refuse every real
    // join. It is kept (not lowered): a forged join naming a low frame must not erase a real one.
    const floorOutOfReach = this.c.notBefore > m.atFrame + MAX_RESEND_BACKLOG;
    if (this.c.status !== 'lobby' || (m.atFrame < this.c.notBefore && !floorOutOfReach)) {
      // An admission proposed from a stale hello (we are in another admission, or its frame
      // could meet packets of one we left): refuse it like a player leaving, so every member
      // drops it at an agreed frame instead of waiting for our inputs.
      this.c.log(`refusing admission at ${m.atFrame} from ${from} (${this.c.status}, not before ${this.c.notBefore})`);
      const leave: Control = { kind: Kind.leave, gen: m.gen, peer: this.c.selfId, since: m.atFrame };
      for (const [, p] of m.members) if (p !== this.c.selfId) this.c.sendCtl(p, leave);
      // Our next admission must come after this one, which the members hold until they
      // drop it: our hellos ask for a frame past it from now on.
      // Not for a frame further ahead of ours than any player runs ahead of a member it still
      // sends inputs to: a forged join naming a far frame would keep us out for good.
      const ours = this.c.sim?.frame ?? this.c.since.get(this.c.selfId) ?? 0;
      if (m.atFrame <= ours + MAX_RESEND_BACKLOG) this.c.notBefore = Math.max(this.c.notBefore, m.atFrame + 1);
      return;
    }
    this.c.status = 'joining';
    this.c.joinedVia = from;
    this.c.joinedAt = this.c.clock.now();
    this.c.inputs.useGeneration(m.gen);
    this.c.config = { seed: m.seed, tickHz: m.tickHz, delay: m.delay, hashEvery: m.hashEvery };
    this.c.delays.reset(m.delay);
    this.c.role = m.role;
    this.c.since.set(this.c.selfId, m.atFrame);
    this.c.silent.clear();
    for (const [since, p] of m.members) {
      this.c.since.set(p, since);
      this.c.silent.expect(p);
      if (p === this.c.selfId) continue;
      this.c.receivers.set(p, m.atFrame + m.delay);
      this.c.streams.set(p, new InputStream(m.atFrame));
    }
    if (m.role === 'player') this.c.streams.set(this.c.selfId, new InputStream(m.atFrame, m.delay, this.c.neutral));
    this.c.myNext = m.atFrame + m.delay;
    this.c.ticker.schedule(true); // send acks while waiting, so senders know what reached us
  }

  onSnapshot(m: Extract<Control, { kind: typeof Kind.snapshot }>): void {
    if (this.c.status !== 'joining' || m.gen !== this.c.gen || m.frame !== this.c.since.get(this.c.selfId)) return;
    this.c.config = { seed: m.seed, tickHz: m.tickHz, delay: m.delay, hashEvery: m.hashEvery };
    for (const s of m.spectators) this.c.spectators.add(s);
    // The coordinator's lists are authoritative (they include any join we heard of first).
    this.c.joinsAt.clear();
    this.c.dropsAt.clear();
    for (const [f, p] of m.joins) {
      this.c.since.set(p, f);
      const list = this.c.joinsAt.get(f) ?? [];
      if (!list.includes(p)) list.push(p);
      this.c.joinsAt.set(f, list);
      if (p === this.c.selfId) continue;
      // A stream we already hold for this join (we heard of it first) keeps the inputs
      // that arrived, and were acknowledged, before the snapshot: they are never resent.
      const held = this.c.streams.get(p);
      if (held?.start === f) for (let i = 0; i < m.delay; i++) held.put(f + i, this.c.neutral, true);
      else this.c.streams.set(p, new InputStream(f, m.delay, this.c.neutral));
      // A player admitted after us (not among our join's members) sends us its inputs from
      // its join frame and must hear our acknowledgements, as applyJoin arranges: its own
      // join, if it reaches us after this snapshot (relayed to a spectator), is only
      // acknowledged (onJoin: the same admission again). Without this we never answered it:
      // it resent its first inputs for good, we stalled on them, and it forgot us as silent.
      if (held?.start !== f || !this.c.receivers.has(p)) this.c.receivers.set(p, f);
    }
    for (const [f, p] of m.drops) {
      const list = this.c.dropsAt.get(f) ?? [];
      if (!list.includes(p)) list.push(p);
      this.c.dropsAt.set(f, list);
    }
    for (const p of [...this.c.streams.keys()]) {
      if (!m.players.includes(p) && !m.joins.some(([, j]) => j === p)) {
        this.c.streams.delete(p);
        if (!this.c.spectators.has(p) && p !== this.c.selfId) this.c.since.delete(p);
      }
    }
    // Departures too: a drop we applied before the snapshot may be stepped out already
    // (its frame before the snapshot's), and a leftover `dropped` would defer that peer's
    // next join for good. The snapshot's drops are those still ahead.
    this.c.dropped = new Set(m.drops.map(([, p]) => p));
    for (const p of [...this.c.leaving]) {
      if (this.c.streams.has(p) && !this.c.dropped.has(p)) continue;
      this.c.leaving.delete(p);
      this.c.reportSentTo.delete(p);
    }
    const state = this.c.game.deserialize(m.state);
    this.c.recorder = new Recorder({ game: this.c.game.name, seed: m.seed, startFrame: m.frame, players: m.players, snapshot: m.state }, this.c.opts.recording);
    const rec = this.c.recorder;
    this.c.sim = new Simulation(this.c.game, state, m.frame, m.players, (f) => rec.step(f));
    this.c.silent.restart(); // a member's wait counts from when we play, not from the join
    this.c.ticker.running();
    this.flushDeferredJoins(); // joins held behind a departure the snapshot shows is over
  }

  /** Every member: a join proposed by the coordinator `from`. */
  onJoin(from: PeerId, m: JoinMessage): void {
    const current = this.c.since.get(m.peer);
    if (current === m.atFrame && this.c.isMember(m.peer)) {
      this.c.sendCtl(from, { kind: Kind.joinAck, gen: this.c.gen, peer: m.peer, atFrame: m.atFrame });
      return;
    }
    // A spectator's admission we saw end (its leave came, or no player reaches it), or one
    // before the admission we know: a copy of its join coming late (relayed by a forwarder
    // that saw it end later, or heard of the next one later, ControlRelay.serve) must not
    // list it again for good. A later admission of it has a later frame.
    if (m.role === 'spectator' && current !== undefined && m.atFrame <= current) {
      this.c.log(`join of ${m.peer} at ${m.atFrame}: that admission is over for us (we know it from ${current})`);
      this.c.sendCtl(from, { kind: Kind.joinAck, gen: this.c.gen, peer: m.peer, atFrame: m.atFrame });
      return;
    }
    // A join from a proposer already leaving or dropped is refused: unacknowledged, the
    // proposer never sends an input for the join frame, so no member can step it, and the
    // proposer's drop cancels it everywhere (see #applyDrop).
    if (!this.c.streams.has(from) || this.c.leaving.has(from) || this.c.dropped.has(from)) {
      this.c.log(`ignoring join of ${m.peer} at ${m.atFrame}: its proposer ${from} is leaving`);
      return;
    }
    // A spectator admitted again (it fell behind, or could not follow a drop): the new
    // admission ends the earlier one. The coordinator proposes a join only for a peer that
    // is no member in its view, and a spectator leaves without a drop to agree on; its own
    // leave may reach us after this join (it is stale then). Holding the join back until
    // that leave arrives would hold back our joinAck, and the coordinator's inputs with it.
    if (this.c.spectators.has(m.peer) && current !== undefined && current < m.atFrame) this.c.departures.departed(m.peer);
    // A spectator our snapshot listed, admitted after our own join (not among its members):
    // a snapshot names no spectator's join frame, and its join can reach us after the
    // snapshot (one relayed by the player that admitted us overtakes the coordinator's own
    // messages over a slow link). This join is that admission: taken for a later one
    // waiting behind it, it waited for good, unacknowledged, and the coordinator held its
    // inputs back at its join frame: every player froze.
    if (this.c.spectators.has(m.peer) && current === undefined) this.c.spectators.delete(m.peer);
    // Still here under an earlier admission (its drop not stepped yet): apply it after.
    if (this.c.isMember(m.peer) || this.c.dropped.has(m.peer)) {
      this.c.deferredJoins.push({ from, m });
      return;
    }
    if (this.c.sim && m.atFrame <= this.c.sim.frame) this.c.log(`join of ${m.peer} at ${m.atFrame} arrived at frame ${this.c.sim.frame}`);
    this.applyJoin(m.peer, m.role, m.atFrame, from);
    this.c.sendCtl(from, { kind: Kind.joinAck, gen: this.c.gen, peer: m.peer, atFrame: m.atFrame });
    const key = admissionKey(m.peer, m.atFrame);
    const decided = this.c.decidedDrops.get(key);
    if (decided) {
      this.c.decidedDrops.delete(key);
      this.c.departures.applyDrop(decided);
    } else if (this.c.earlyLeaves.delete(key) || (!this.c.room.peers.has(m.peer) && !(m.role === 'spectator' && this.c.departures.reached(m.peer)))) {
      // It left before we heard of it: announce it like any departure. (A spectator we have
      // no connection to watches through the players that reach it: input-relay.ts.)
      this.c.departures.departed(m.peer);
    }
  }

  /** Joins deferred behind an earlier admission of the same peer, once that one is gone. */
  flushDeferredJoins(): void {
    if (this.c.deferredJoins.length === 0) return;
    const list = this.c.deferredJoins;
    this.c.deferredJoins = [];
    for (const { from, m } of list) this.onJoin(from, m);
  }

  /**
   * A join whose proposer is dropped at or before its frame never happened: no member
   * stepped the join frame (none steps past the drop frame before it has the drop), and
   * some member may never have heard of the join. (Had the proposer's input for the join
   * frame reached anyone, the drop frame would be later: the proposer sends that input only
   * once every member acknowledged the join, and then the join stands.) Every member
   * applies the same drop, so every member cancels the same joins.
   */
  cancelJoin(peer: PeerId): void {
    const since = this.c.since.get(peer);
    this.c.log(`cancelling the join of ${peer} at ${since}: its proposer was dropped first`);
    const wasSpectator = this.c.spectators.delete(peer);
    this.c.streams.delete(peer);
    this.c.receivers.delete(peer);
    this.c.remoteNext.delete(peer);
    this.c.delays.forget(peer);
    this.c.since.delete(peer);
    this.c.proposer.delete(peer);
    this.c.leaving.delete(peer);
    this.c.reportSentTo.delete(peer);
    this.c.pendingJoins.delete(peer);
    if (since !== undefined) this.c.agreements.delete(admissionKey(peer, since));
    for (const lists of [this.c.joinsAt, this.c.snapshotsAt]) {
      for (const [f, ps] of lists) {
        const rest = ps.filter((p) => p !== peer);
        if (rest.length) lists.set(f, rest);
        else lists.delete(f);
      }
    }
    this.c.hashing.judge(this.c.hashes.forget(peer));
    if (wasSpectator) this.c.events.emit('player-left', { peer, atFrame: since ?? this.c.frame });
  }

  /**
   * The joiner's tick: true (and back in the lobby) once the snapshot is SNAPSHOT_DEADLINE_MS
   * overdue. The coordinator that admitted us stopped playing without leaving the room or
   * the game (its session stuck), or the join was forged by a peer that plays no game.
   */
  snapshotOverdue(): boolean {
    const deadline = SNAPSHOT_DEADLINE_MS * 2 ** Math.min(this.c.snapshotMisses, MAX_SNAPSHOT_DEADLINE_DOUBLINGS);
    if (this.c.status !== 'joining' || this.c.clock.now() - this.c.joinedAt < deadline) return false;
    this.c.snapshotMisses++;
    this.rejoin('no-snapshot', `${this.c.joinedVia}, who admitted us at frame ${this.c.since.get(this.c.selfId)}, sent no snapshot within ${deadline} ms`, { announce: true });
    return true;
  }

  /**
   * A player (the session checked) stopped sending us its inputs: we acknowledged none
   * for more than MAX_RESEND_BACKLOG frames, and it no longer holds the ones we lack. We
   * cannot follow without a fresh snapshot, so we are admitted again. A notice about an
   * admission we already left is stale (another player may cut that one off later).
   */
  onCutOff(from: PeerId, m: Extract<Control, { kind: typeof Kind.cutOff }>): void {
    if (m.since !== this.c.since.get(this.c.selfId)) return;
    // A forwarder cuts us off too (input-relay.ts): `acked` is then the first frame of a
    // player it forwards to us that we asked for and it no longer holds. The notice does
    // not say which player; ours is the one it forwards whose first missing frame that is.
    const forwarded = [...this.c.streams].find(([p, s]) => p !== from && this.c.relay.forwarderOf(p) === from && s.next === m.acked)?.[0];
    if (forwarded !== undefined) {
      const why = `${from}, which forwards us ${forwarded}'s inputs, stopped forwarding: it no longer holds them from frame ${m.acked}, the first we lack (we asked it for them further behind it than it keeps other players' inputs, at least ${RELAY_KEEP_FRAMES} frames)`;
      return this.rejoin('fell-behind', why, { announce: true, detail: { by: from, player: forwarded } });
    }
    this.rejoin('fell-behind', `${from} stopped sending us its inputs: we acknowledged nothing past frame ${m.acked}, more than ${MAX_RESEND_BACKLOG} frames behind it`, { announce: true, detail: { by: from, player: from } });
  }

  /**
   * Back to the lobby to be admitted again: the coordinator that admitted us vanished or
   * left the game before sending our snapshot, or sent none in time (`announce`: tell the
   * members, who drop us at an agreed frame as for any player), a player cut us off, every
   * player is gone from our view or we cannot follow a drop (announced too), or our join
   * was cancelled (the members cancel it themselves) or dropped before our snapshot (the
   * members agreed that drop already). Emits `rejoining` (`code`, `why`, `detail`).
   */
  rejoin(code: RejoinCode, why: string, { announce, detail, raiseFloor = true }: RejoinOptions): void {
    const frame = this.c.frame;
    this.c.log(`back to the lobby: ${why}`);
    const since = this.c.since.get(this.c.selfId) ?? 0;
    if (announce) for (const p of this.c.members()) this.c.sendCtl(p, { kind: Kind.leave, gen: this.c.gen, peer: this.c.selfId, since });
    // Packets of this admission may still be in flight: the next one must start past every
    // frame they name (our inputs, and what we acknowledged of others').
    let last = Math.max(this.c.myNext, since + this.c.config.delay, this.c.sim?.frame ?? 0);
    for (const s of this.c.streams.values()) last = Math.max(last, s.next);
    if (raiseFloor) this.c.notBefore = Math.max(this.c.notBefore, last + 1);
    this.forgetGame();
    this.c.status = 'lobby';
    this.sayHello();
    this.c.events.emit('rejoining', { frame, reason: new MeshpartyError(code, why, { frame, ...detail }) });
  }

  /** Drop everything of the current game (back to the lobby, or over to a start that won: concurrent-starts.ts). */
  forgetGame(): void {
    if (this.c.timer !== undefined) this.c.clock.clearTimeout(this.c.timer);
    this.c.timer = undefined;
    this.c.links.clear();
    this.c.relay.clear();
    this.c.control.clear();
    this.c.hashing.clearRelayed();
    this.c.silent.clear();
    this.c.lobbyWait.reset();
    for (const c of [this.c.streams, this.c.receivers, this.c.remoteNext, this.c.since, this.c.joinsAt, this.c.dropsAt, this.c.reportSentTo, this.c.agreements, this.c.pendingJoins, this.c.snapshotsAt, this.c.localHashes, this.c.states, this.c.decidedDrops, this.c.proposer]) c.clear();
    for (const c of [this.c.spectators, this.c.leaving, this.c.dropped, this.c.earlyLeaves]) c.clear();
    this.c.deferredJoins = [];
    // The same rule as the first game's book: made here without it, every later game of a
    // peer that rejoined or moved to a winning start judged a spectator's hash past a drop.
    this.c.hashes = this.c.newHashBook();
    this.c.splits.forgetGame();
    this.c.sim = undefined;
    this.c.recorder = undefined;
    this.c.joinedVia = undefined;
    this.c.gen = 0;
    this.c.offInput?.();
    this.c.offInput = undefined;
    this.c.in = undefined;
    this.c.starter = undefined;
    this.c.stalledAt = -1;
    this.c.delays.reset(this.c.config.delay);
    this.c.role = this.c.opts.spectator ? 'spectator' : 'player';
  }
}
