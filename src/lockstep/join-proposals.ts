/**
 * The coordinator's side of a late join: pick a join frame every member can hear of in
 * time, hold back its own inputs from that frame until every member acknowledged, and
 * send the joiner a snapshot of that frame. PROTOCOL.md, "Lockstep wire format".
 */
import type { PeerId } from '../mesh/types.js';
import { MAX_RESEND_BACKLOG } from './input-exchange.js';
import type { SessionCore } from './session-core.js';
import { type Control, encodeControl, Kind, type Role } from './wire.js';

/**
 * A peer is admitted again no sooner than this many seconds (in frames at the session's
 * tick rate) after the join frame of its previous late join: each admission costs every
 * member a join and its acknowledgement, and the coordinator a snapshot, and a member
 * could otherwise leave and say hello in a loop (or a player send cut-off notices).
 */
const READMIT_INTERVAL_S = 5;
/** A spectator member saying hello from the lobby this many seconds past its join frame never took that join. */
const STALE_LOBBY_HELLO_S = 2;

export class JoinProposals<S, I> {
  constructor(private readonly c: SessionCore<S, I>) {}

  /** Coordinator: propose a join frame for a peer who arrived mid-game (`fresh`: its hello just came, not one kept from before). */
  maybeAdmit(peer: PeerId, fresh = false): void {
    const sim = this.c.sim;
    if (this.c.status !== 'running' || !sim || this.c.coordinator() !== this.c.selfId) return;
    if ((this.c.opts.admitLateJoiners ?? true) === false) return;
    const hello = this.c.hellos.get(peer);
    // Its hello can arrive before our end of the connection is open; a join sent now would be
    // lost. A spectator we have no connection to is admitted through a player that reaches
    // it and passed its hello on (control-relay.ts).
    const linked = this.c.room.peers.has(peer);
    if (!linked && !(hello?.role === 'spectator' && this.c.departures.reached(peer))) return;
    // A spectator we never had a connection to (it watched through forwarders) never told
    // us it left: a lobby hello asking for a frame past its admission says it did (one sent
    // before it took the join asks for one at or before it; one far past every frame of
    // the game comes from a forged join it took, and says nothing). One asking for no frame
    // past it, arriving STALE_LOBBY_HELLO_S past its join frame, says it never took that
    // join: it was lost with a connection (ours, or that of the player passing it on), while
    // players that reach it keep it listed (Departures.reached). A hello sent before it took
    // the join arrives within a round trip or two, long before its join frame (and one kept
    // from then, judged again later, says nothing: hence `fresh`).
    const since = this.c.since.get(peer) ?? Infinity;
    const left = hello !== undefined && hello.after > since && hello.after <= sim.frame + MAX_RESEND_BACKLOG;
    const neverJoined = fresh && hello !== undefined && hello.after <= since && sim.frame >= since + STALE_LOBBY_HELLO_S * this.c.config.tickHz;
    if (hello && !hello.started && this.c.spectators.has(peer) && (left || neverJoined)) this.c.departures.departed(peer);
    if (!hello || hello.started || this.c.isMember(peer) || this.c.pendingJoins.has(peer) || this.c.dropped.has(peer)) return;
    // A hello older than the peer's last admission says nothing about now, if the peer heard
    // of that admission: a packet of it came from the peer. A join we applied may never have
    // reached it, lost with a connection of the coordinator that sent it (that coordinator
    // forgets the admission when the connection closes, Departures.onPeerLeft); a member
    // taking over as coordinator, its own connection to the peer never closed, took the
    // peer's every hello for a stale one, and the peer waited in the lobby for good. A hello
    // from before an admission is no worry here: applying a join drops it (applyJoin).
    // A peer that told us itself it left that admission is past it: its hellos from then on
    // (a new session of it asks for frame 0) are not stale (leftItself).
    const last = this.c.lastAdmission.get(peer);
    if (last !== undefined && hello.after <= last && this.c.heardIn.get(peer) === last && this.c.leftItself.get(peer) !== last) return;
    // A peer we have no connection to we never hear a packet of, and its lobby hellos come
    // relayed: one sent just before it took an admission can reach us after it, and kept,
    // it would admit again a spectator that left the game but not the room (a member we
    // cannot reach we never forget: SilentMembers), even once we forgot that admission
    // (Departures.forgetPeer) or have a connection to it (its session stopped, it says
    // nothing over it). Only such a hello as it arrives admits it (a peer in the lobby
    // repeats its hello every second). So does one not past its last admission, whatever
    // way it came: we heard no packet of that admission (above), so it may have been sent
    // just before the peer took the join and reached us after it, over our connection too;
    // when the peer's session stopped as the join came, nothing makes that hello stale, and
    // kept, it admitted the peer again once it counted as absent (SilentMembers), which
    // another SILENT_MEMBER_MS later counted it absent again (a player: the game stalled).
    const older = last !== undefined && hello.after <= last;
    if (!fresh && (!linked || hello.relayed || older)) return;
    // Rate limit (the periodic retry in the ticker admits it once the interval is over).
    if (last !== undefined && sim.frame < last + READMIT_INTERVAL_S * this.c.config.tickHz) return;
    // While a drop is being agreed, a join sent now could reach a member before the drop
    // it must follow (the drop may cancel an earlier admission of this very peer).
    if (this.c.leaving.size > 0) return;
    const others = this.c.members();
    const seats = sim.players.length + [...this.c.pendingJoins.values()].filter((j) => j.role === 'player').length;
    const role: Role = hello.role === 'player' && seats < (this.c.opts.maxPlayers ?? 8) ? 'player' : 'spectator';
    // A player must reach every player: players' inputs are never forwarded to a player. A
    // spectator needs one player: one it cannot reach has its inputs forwarded by one it can
    // (input-relay.ts), and without a connection to us it gets our control (its join and
    // snapshot, later joins and drops) through a player too (control-relay.ts).
    const players = others.filter((m) => this.c.streams.has(m));
    if (role === 'player' && !players.every((m) => m === peer || hello.connected.includes(m))) return; // not meshed with every player yet
    const frameMs = 1000 / this.c.config.tickHz;
    const maxRtt = Math.max(0, ...others.map((p) => this.c.room.peers.get(p)?.rttMs ?? 100));
    // Far enough ahead that every member hears of it before anyone could step it.
    const soonest = Math.max(this.c.myNext, sim.frame + this.c.config.delay + 1) + Math.ceil(maxRtt / frameMs) + 4;
    // Never below `after`: frames of an earlier admission of this peer may still be in
    // flight. But no admission of this game reaches MAX_RESEND_BACKLOG frames past ours (no
    // member runs that far ahead): such an `after` comes from a forged join the peer took,
    // and a join there would wait for a snapshot that never comes, time after time.
    const atFrame = hello.after > soonest + MAX_RESEND_BACKLOG ? soonest : Math.max(soonest, hello.after);
    const members = [this.c.selfId, ...others].map((p) => [this.c.since.get(p) ?? 0, p] as [number, PeerId]);
    const msg: Control = { kind: Kind.join, gen: this.c.gen, peer, role, atFrame, ...this.c.config, members };
    for (const p of [...others, peer]) this.c.sendCtl(p, msg);
    this.c.pendingJoins.set(peer, { atFrame, role, acks: new Set(), expect: new Set(others) });
    this.c.admission.applyJoin(peer, role, atFrame, this.c.selfId);
    const at = this.c.snapshotsAt.get(atFrame) ?? [];
    at.push(peer);
    this.c.snapshotsAt.set(atFrame, at);
  }

  /**
   * Every member: `peer` sent us its own `leave` of admission `since`. If that is its last
   * admission, hellos it sends from now on say nothing stale (leftItself); the ones we kept
   * came before that leave (over our connection, in order), from the session that left.
   */
  leftItself(peer: PeerId, since: number): void {
    if (this.c.lastAdmission.get(peer) !== since) return;
    this.c.hellos.delete(peer);
    this.c.leftItself.set(peer, since);
  }

  pendingJoinsForget(id: PeerId): void {
    for (const j of this.c.pendingJoins.values()) j.expect.delete(id);
  }

  gateFrame(): number {
    let gate = Infinity;
    for (const [peer, j] of this.c.pendingJoins) {
      for (const p of [...j.expect]) if (!this.c.room.peers.has(p) || this.c.leaving.has(p)) j.expect.delete(p);
      if ([...j.expect].every((p) => j.acks.has(p))) {
        if (j.role === 'spectator') this.c.pendingJoins.delete(peer);
        continue;
      }
      gate = Math.min(gate, j.atFrame);
    }
    return gate;
  }

  /** The snapshot of our state for `to`, which joins at this frame (as from the coordinator, if we admit it on its behalf: control-relay.ts). */
  sendSnapshot(to: PeerId): void {
    const sim = this.c.sim!;
    const pairs = (m: Map<number, PeerId[]>) => [...m].flatMap(([f, ps]) => ps.map((p) => [f, p] as [number, PeerId]));
    const msg: Control = {
      kind: Kind.snapshot,
      gen: this.c.gen,
      frame: sim.frame,
      ...this.c.config,
      players: [...sim.players],
      spectators: [...this.c.spectators],
      joins: pairs(this.c.joinsAt),
      drops: pairs(this.c.dropsAt),
      state: sim.serialize(),
    };
    const origin = this.c.control.takeAdmission(to);
    this.c.sendCtl(to, origin ? { kind: Kind.relay, peer: origin, control: encodeControl(msg) } : msg);
  }
}
