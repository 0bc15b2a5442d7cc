/**
 * Players leaving or vanishing: announce the leaver, freeze its input stream, report to
 * the coordinator, which decides the drop frame from every report (DropAgreement); every
 * member applies the same drop, and with it cancels the joins the leaver proposed for
 * that frame or later. Messages name the admission they are about (its `since`), so one
 * about an earlier admission of the same peer is ignored. PROTOCOL.md, "Leave and drop".
 */
import type { PeerId } from '../mesh/types.js';
import { MeshpartyError } from '../util/errors.js';
import { DropAgreement } from './drop-agreement.js';
import { MAX_RESEND_BACKLOG } from './input-exchange.js';
import { admissionKey, type DropMessage, KEEP_ADMISSION_RECORDS, type SessionCore } from './session-core.js';
import { type Control, Kind } from './wire.js';

/** A drop hands out at most this many frames of the leaver's inputs, for spectators behind every player. */
export const DROP_HISTORY = 512;
/** Leaves of admissions not (yet) known, kept per peer (a joiner has one admission in flight, rarely two). */
const EARLY_LEAVES_PER_PEER = 4;

export class Departures<S, I> {
  constructor(private readonly c: SessionCore<S, I>) {}

  /** Another peer's connection closed. */
  onPeerLeft(id: PeerId): void {
    this.c.hellos.delete(id);
    // Its hellos over the next connection are never stale: they come after every join of
    // ours that reached it, and a join still on this connection is lost with it. Kept, the
    // last admission would outlive a join lost that way (the peer never heard of it, so its
    // `after` stays below that join frame) and we would take its every hello for a stale
    // one: a late joiner whose connection dropped just after we admitted it waited for good.
    this.c.lastAdmission.delete(id);
    this.c.heardIn.delete(id);
    this.c.leftItself.delete(id);
    this.c.splits.peerLeft(id);
    this.#connectionClosed(id);
    this.forgetPeer(id);
  }

  /**
   * What this session keeps about a peer that is in no game of ours and has left the room
   * goes with it: over a long session, one entry per visitor in each map would add up.
   * (Back with the same id, it comes over a new connection: no hello of its earlier
   * connection can reach us any more, and its admissions' rate limit starts afresh.)
   */
  forgetPeer(id: PeerId): void {
    if (this.c.isMember(id) || this.c.room.peers.has(id)) return;
    this.c.since.delete(id);
    this.c.proposer.delete(id);
    this.c.lastAdmission.delete(id);
    this.c.heardIn.delete(id);
    this.c.leftItself.delete(id);
    this.c.bad.delete(id);
    this.c.peerLinks.delete(id);
  }

  #connectionClosed(id: PeerId): void {
    if (this.c.status === 'joining' && id === this.c.joinedVia) return this.c.admission.rejoin('coordinator-left', `${id}, who admitted us, left before our snapshot`, { announce: true });
    if (this.c.status !== 'running' && this.c.status !== 'joining') return;
    // A spectator's connection to a player says nothing about that player: it is ours alone.
    // But that player's hellos no longer reach us (see reached): spectators only it reached
    // are gone for us, as nothing would tell us once it stops reaching them.
    if (this.c.role === 'spectator' && this.c.streams.has(id)) {
      this.forgetUnreached(this.c.spectators);
      return this.c.links.lost(id);
    }
    // A spectator another player still reaches watches on through it (input-relay.ts): we
    // stop sending it anything (it takes our inputs forwarded from now on), it stays a member.
    if (this.c.spectators.has(id) && this.reached(id)) {
      this.c.receivers.delete(id);
      return this.c.log(`connection to spectator ${id} closed: another player still reaches it`);
    }
    this.departed(id);
    this.tryDecideDrops();
  }

  /**
   * Whether a player other than us, still playing, reaches spectator `id` (its latest
   * hello lists it). A spectator is a member of the game for every player while some
   * player reaches it, one with no connection to it included: so every player lists the
   * same spectators, and forgets one that vanished without a leave (a crash, a closed tab)
   * once the players that reached it say in their hellos that they do not any more.
   * Only players' views count, as for drops. A spectator follows the same rule, from the
   * hellos of the players it is connected to: with its own connections alone, it did not
   * list for good a spectator whose join came before their connection opened, which every
   * player and that spectator listed. Only players it is connected to count: the last
   * hello of one whose connection closed grows stale, and it kept for good a spectator
   * that player (and nobody else it heard) once reached, long after every player forgot it.
   */
  reached(id: PeerId): boolean {
    if (this.c.status !== 'running') return false;
    for (const q of this.c.streams.keys()) {
      if (q === this.c.selfId || this.c.leaving.has(q) || this.c.dropped.has(q)) continue;
      if (this.c.role === 'spectator' && !this.c.room.peers.has(q)) continue;
      if (this.c.peerLinks.get(q)?.has(id)) return true;
    }
    return false;
  }

  /**
   * Spectators among `ids` that neither we nor any other player reach any more are gone
   * (see reached): a player's hello stopped listing them, or that player left the game.
   */
  forgetUnreached(ids: Iterable<PeerId>): void {
    if (this.c.status !== 'running') return;
    for (const id of [...ids]) {
      // Never ourselves: a spectator that no player it hears reaches is no member's business but its own (spectator-links.ts).
      if (id === this.c.selfId || !this.c.spectators.has(id) || this.c.room.peers.has(id) || this.reached(id)) continue;
      this.c.log(`spectator ${id}: no player reaches it any more`);
      this.departed(id);
      this.forgetPeer(id);
    }
  }

  /**
   * A lobby hello of spectator `id` asking for a frame past the admission we know of it
   * (`after`, Admission.rejoin) says it left that admission: it went back to the lobby.
   * Its `leave` went only to the members it lists, and no player passes it on when it
   * reached none (it lost every player), while a spectator it did not list but has a
   * connection to counts that connection as reaching it (forgetUnreached): it listed the
   * leaver for as long as that connection lasted. One sent before it took the admission
   * asks for no frame past it. A player hears its leave, or stops reaching it.
   */
  backInLobby(id: PeerId, after: number): void {
    if (this.c.role !== 'spectator' || this.c.status !== 'running' || !this.c.spectators.has(id)) return;
    const since = this.c.since.get(id);
    // One asking for a frame past every frame of the game comes from a forged join it took (JoinProposals.maybeAdmit).
    if (since === undefined || after <= since || after > (this.c.sim?.frame ?? 0) + MAX_RESEND_BACKLOG) return;
    this.c.log(`spectator ${id} says hello from the lobby asking for frame ${after}: it left its admission at ${since}`);
    this.departed(id);
  }

  /**
   * We ignore `id` from now on (it sent too many bad messages). A member whose packets
   * and acknowledgements we drop cannot stay one: we would wait for a player's inputs for
   * good, and for a spectator's `joinAck` at the next join, which freezes every player.
   * So it goes as if its connection had closed: a player is announced and dropped, a
   * spectator forgotten; a spectator that ignores a player treats it as a lost link.
   */
  ignored(id: PeerId): void {
    if ((this.c.status !== 'running' && this.c.status !== 'joining') || id === this.c.selfId || !this.c.isMember(id)) return;
    if (this.c.leaving.has(id) || this.c.dropped.has(id)) return;
    const role = this.c.streams.has(id) ? 'player' : 'spectator';
    const why = `${role} ${id} sent too many bad messages: ignoring it`;
    this.c.events.emit('absent', { peer: id, role, frame: this.c.frame, reason: new MeshpartyError('member-ignored', why, { peer: id }) });
    if (this.c.role === 'spectator' && role === 'player') return this.c.links.lost(id);
    this.departed(id);
    this.tryDecideDrops();
  }

  /** A member is gone: a spectator simply stops being sent to; a player is dropped at an agreed frame. */
  departed(id: PeerId): void {
    if (this.c.spectators.has(id)) {
      this.forgetMemberHellos(id);
      this.c.spectators.delete(id);
      this.c.receivers.delete(id);
      this.c.hashing.judge(this.c.hashes.forget(id));
      this.c.events.emit('player-left', { peer: id, atFrame: this.c.frame });
    } else {
      this.playerGone(id);
    }
    this.c.proposals.pendingJoinsForget(id);
  }

  /**
   * A member is gone: the lobby hellos of it we kept came while it was a member. One it sent
   * just before it took the start or its join comes after that admission, and nothing makes
   * it stale when the peer says nothing more (its session stopped): kept, it admitted the
   * peer again once gone (JoinProposals.maybeAdmit's periodic retry), and the players
   * waited SILENT_MEMBER_MS for a session that had stopped. Only a hello that comes after
   * its departure may admit it again (a peer in the lobby repeats its hello every second).
   */
  forgetMemberHellos(id: PeerId): void {
    this.c.hellos.delete(id);
  }

  /** A player left or vanished (seen by us or announced by another member). */
  playerGone(id: PeerId): void {
    if (!this.c.streams.has(id) || this.c.leaving.has(id) || this.c.dropped.has(id)) return;
    // The others count us gone (our link to one of them closed, say) while we are still in
    // the room: back to the lobby to be admitted again, not stopped for good.
    if (id === this.c.selfId) return this.c.admission.rejoin('dropped', 'a player announced our departure', { announce: false });
    this.forgetMemberHellos(id);
    // The coordinator that admitted us leaves the game before our snapshot (it left the
    // session but not the room, so onPeerLeft never fires): nobody else will send that
    // snapshot. Waiting would keep us joining for good and, when its drop frame is past our
    // join frame (the join stands), every player waiting for our inputs for good.
    if (this.c.status === 'joining' && id === this.c.joinedVia) return this.c.admission.rejoin('coordinator-left', `${id}, who admitted us, left the game before our snapshot`, { announce: true });
    this.c.leaving.add(id);
    this.c.streams.get(id)!.frozen = true;
    this.c.receivers.delete(id);
    // Only a player announces (and only a player's announcement counts, see session.ts):
    // a spectator learns of departures from the players, and its reports are questions. A
    // joiner before its snapshot does not know whether `id` plays: the players' views decide.
    if (this.c.role === 'player' && this.c.isPlayer(id)) {
      const since = this.c.since.get(id) ?? 0;
      for (const p of this.c.members()) this.c.sendCtl(p, { kind: Kind.leave, gen: this.c.gen, peer: id, since });
    }
    this.c.hashing.judge(this.c.hashes.forget(id));
    this.c.proposals.pendingJoinsForget(id);
    // Spectators only it reached (as far as we know) are gone with it.
    this.forgetUnreached(this.c.spectators);
    this.sendReports();
    // A spectator with every player gone from its view would wait for good (spectator-links.ts).
    this.c.links.rejoinIfAllGone();
  }

  /** A member announced that `peer` (admitted at `since`) left. */
  onLeave(m: Extract<Control, { kind: typeof Kind.leave }>): void {
    if (m.peer === this.c.selfId) return; // someone lost us; the coordinator's drop decides
    const current = this.c.since.get(m.peer);
    if (current === undefined || !this.c.isMember(m.peer)) {
      // Its join may still be on its way to us; remember the leave for it (bounded). Any
      // peer of the room may send leaves naming itself and made-up admissions, so each peer
      // keeps only its latest few: a flood from one cannot push out another's leave, which
      // a join still on its way may need (else we would wait for a joiner that refused it).
      const own = [...this.c.earlyLeaves].filter((k) => k.startsWith(admissionKey(m.peer, 0).slice(0, -1)));
      for (const k of own.slice(0, Math.max(0, own.length - EARLY_LEAVES_PER_PEER + 1))) this.c.earlyLeaves.delete(k);
      this.c.earlyLeaves.add(admissionKey(m.peer, m.since));
      for (const k of this.c.earlyLeaves) if (this.c.earlyLeaves.size > KEEP_ADMISSION_RECORDS) this.c.earlyLeaves.delete(k);
      return;
    }
    if (current !== m.since) return; // about an earlier admission of the same peer
    this.departed(m.peer);
    this.tryDecideDrops();
  }

  /** Send our report on every pending leaver to the current coordinator. */
  sendReports(): void {
    const coord = this.c.coordinator();
    if (!coord) return;
    for (const leaver of this.c.leaving) {
      if (this.c.reportSentTo.get(leaver) === coord) continue;
      this.c.reportSentTo.set(leaver, coord);
      const s = this.c.streams.get(leaver)!;
      const base = Math.max(s.start, s.next - 256);
      const inputs = s.range(base, s.next);
      const report: Control = { kind: Kind.report, gen: this.c.gen, leaver, since: this.c.since.get(leaver) ?? 0, next: s.next, base, inputs };
      if (coord === this.c.selfId) this.onReport(this.c.selfId, report);
      else this.c.sendCtl(coord, report);
    }
  }

  onReport(from: PeerId, m: Extract<Control, { kind: typeof Kind.report }>): void {
    const key = admissionKey(m.leaver, m.since);
    const decided = this.c.decidedDrops.get(key);
    if (decided) {
      // Decided already (perhaps by a coordinator that vanished before telling `from`).
      if (from !== this.c.selfId) this.c.sendCtl(from, decided);
      return;
    }
    let a = this.c.agreements.get(key);
    if (!this.c.streams.has(from)) {
      // Only players' views count. A spectator asks (the coordinator it reported to may have
      // vanished before telling it the drop); a joiner whose join we never heard of (it may
      // be cancelled) too. Either learns the drop without a say in it: anyone in the room
      // could send a report, and a spectator's lost connection is its own trouble.
      this.c.log(`report on ${m.leaver} from ${from}, ${this.c.isMember(from) ? 'a spectator' : 'not a member'}: it only gets the decision`);
      if (this.c.isMember(from)) return; // every member is sent the decision anyway
      a ??= this.listenOnly(key, m.leaver);
      a.listeners.add(from);
      return;
    }
    if (!a) this.c.agreements.set(key, (a = new DropAgreement(m.leaver)));
    a.add(from, { next: m.next, base: m.base, inputs: m.inputs });
    // Over the cap, non-members' requests go first: oldest-first alone would push out a
    // drop the players are still agreeing, which is the oldest once a flood of requests
    // filled the rest (with two departures at once, every player would stall for good).
    for (const [k, x] of this.c.agreements) if (this.c.agreements.size > KEEP_ADMISSION_RECORDS && k !== key && x.reports.size === 0) this.c.agreements.delete(k);
    for (const k of this.c.agreements.keys()) if (this.c.agreements.size > KEEP_ADMISSION_RECORDS && k !== key) this.c.agreements.delete(k);
    // A report on an admission we do not know (yet) is kept: the join may still be coming.
    if (this.c.since.get(m.leaver) !== m.since || !this.c.isMember(m.leaver)) return;
    // We may not have noticed the departure ourselves yet.
    this.playerGone(m.leaver);
    this.tryDecideDrops();
  }

  /**
   * A new agreement that only a non-member is waiting on. Anyone in the room can send
   * reports naming made-up admissions, so these are capped (the oldest goes first); the
   * cap never touches an agreement a player has reported on, so a forger cannot evict a
   * pending drop and stall the players.
   */
  private listenOnly(key: string, leaver: PeerId): DropAgreement {
    const unreported = [...this.c.agreements].filter(([, x]) => x.reports.size === 0);
    for (const [k] of unreported.slice(0, Math.max(0, unreported.length - KEEP_ADMISSION_RECORDS + 1))) this.c.agreements.delete(k);
    const a = new DropAgreement(leaver);
    this.c.agreements.set(key, a);
    return a;
  }

  tryDecideDrops(): void {
    if (this.c.coordinator() !== this.c.selfId) return;
    const frame = this.c.sim?.frame ?? 0;
    // Players only (DropAgreement says why); those still waiting for their join frame have nothing to report.
    const expected = [this.c.selfId, ...this.c.members()].filter((p) => this.c.streams.has(p) && !this.c.leaving.has(p) && this.c.isComputing(p, frame));
    for (const leaver of [...this.c.leaving]) {
      const since = this.c.since.get(leaver) ?? 0;
      const key = admissionKey(leaver, since);
      const a = this.c.agreements.get(key);
      // With spectators, hand out the leaver's older inputs too: one that lags needs them, and nobody else can send them any more.
      const own = this.c.streams.get(leaver);
      const history = own && this.c.spectators.size > 0 ? { get: (f: number) => own.get(f), reach: DROP_HISTORY } : undefined;
      const d = a?.decide(expected, history);
      if (!a || !d) continue;
      this.c.agreements.delete(key);
      const msg: DropMessage = { kind: Kind.drop, gen: this.c.gen, leaver, since, ...d };
      // Reporters we do not count as members (a joiner whose join we never heard of) learn it too.
      for (const p of new Set([...this.c.members(), ...a.reports.keys(), ...a.listeners])) if (p !== this.c.selfId) this.c.sendCtl(p, msg);
      this.applyDrop(msg);
    }
  }

  applyDrop(m: DropMessage): void {
    const key = admissionKey(m.leaver, m.since);
    if (this.c.since.get(m.leaver) !== m.since) {
      // Not an admission we know (yet): keep it for a join that arrives late.
      if (m.leaver !== this.c.selfId) this.remember(key, m);
      return;
    }
    if (this.c.dropped.has(m.leaver)) {
      // Known from our snapshot, which names a drop still ahead but carries none of its
      // inputs. A joiner admitted through a forwarder gets the drop itself only after that
      // snapshot (control-relay.ts), and it is the only source of the leaver's last inputs
      // before the drop frame: the players dropped the leaver's stream once past it, so
      // nobody forwards them. Ignored here, we stalled before the drop frame for good.
      const s = this.c.streams.get(m.leaver);
      if (s) m.inputs.forEach((b, i) => s.put(m.base + i, b, true));
      return;
    }
    if (m.leaver === this.c.selfId) {
      // Dropped before our snapshot (a member had no connection to us when our join came,
      // say): we stepped nothing, so we are no player gone but a joiner to admit again.
      if (this.c.status === 'joining') return this.c.admission.rejoin('join-dropped', `the members dropped our join at ${m.since} (at frame ${m.atFrame}) before our snapshot came`, { announce: false });
      return this.c.admission.rejoin('dropped', `the players dropped us at frame ${m.atFrame}`, { announce: false });
    }
    const s = this.c.streams.get(m.leaver);
    if (!s) return;
    this.remember(key, m);
    m.inputs.forEach((b, i) => s.put(m.base + i, b, true));
    // A spectator that stepped past the drop frame (it had inputs of the leaver no player
    // had), or that lacks some of the leaver's inputs before it (nobody can send them now),
    // cannot follow: it leaves and is admitted again with a fresh snapshot.
    const past = this.c.sim !== undefined && m.atFrame < this.c.sim.frame;
    if (this.c.role === 'spectator' && (past || s.next < m.atFrame)) {
      return this.c.admission.rejoin(past ? 'past-drop' : 'inputs-lost', past ? `the drop of ${m.leaver} at ${m.atFrame} is behind our frame ${this.c.sim!.frame}` : `inputs of ${m.leaver} before ${m.atFrame} are lost for good (we have up to ${s.next})`, { announce: true });
    }
    if (past) this.c.log(`drop of ${m.leaver} at ${m.atFrame} is behind frame ${this.c.sim!.frame}`);
    const list = this.c.dropsAt.get(m.atFrame) ?? [];
    if (!list.includes(m.leaver)) list.push(m.leaver);
    this.c.dropsAt.set(m.atFrame, list);
    this.c.dropped.add(m.leaver);
    this.c.leaving.delete(m.leaver);
    this.c.splits.dropped(m.leaver);
    // Our report on this admission is done with. Left behind, it would pass for one sent
    // about the peer's next admission (sendReports goes by peer): that departure would
    // never be reported, its drop never decided, and every player would wait for good.
    this.c.reportSentTo.delete(m.leaver);
    this.c.receivers.delete(m.leaver);
    this.c.agreements.delete(key);
    // Joins the leaver proposed for its drop frame or later are cancelled, here as everywhere.
    for (const [peer, proposer] of [...this.c.proposer]) {
      if (proposer === m.leaver && (this.c.since.get(peer) ?? -1) >= m.atFrame && peer !== this.c.selfId) this.c.admission.cancelJoin(peer);
    }
    if (this.c.joinedVia === m.leaver && (this.c.since.get(this.c.selfId) ?? -1) >= m.atFrame) return this.c.admission.rejoin('join-cancelled', `our join at ${this.c.since.get(this.c.selfId)} was cancelled (${m.leaver} dropped at ${m.atFrame})`, { announce: false });
    this.c.admission.flushDeferredJoins();
  }

  remember(key: string, m: DropMessage): void {
    this.c.decidedDrops.set(key, m);
    for (const k of this.c.decidedDrops.keys()) if (this.c.decidedDrops.size > KEEP_ADMISSION_RECORDS) this.c.decidedDrops.delete(k);
  }
}
