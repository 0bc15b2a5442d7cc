/**
 * A RoomDirectory shared by the instances of a relay cluster: a local mirror of every
 * instance's members, kept up to date from pub/sub, with this instance's own members
 * (the ones it can deliver to) among them. Reads are served from the mirror, so they stay
 * synchronous; changes and remote deliveries go out through a {@link ClusterBus},
 * fire-and-forget, in call order (one connection publishes them all, which is what keeps
 * per-sender order). Internal to `signaling/`.
 */
import { roomSlot as slot } from '../remembered-ids.js';
import type { DirectoryMember, RoomDirectory } from '../room-directory.js';
import type { MemberTuple, Namespace } from './messages.js';

/** What a SharedDirectory asks of the cluster (see redis-cluster.ts). */
export interface ClusterBus {
  readonly instanceId: string;
  /** Connected: remote deliveries can go out. */
  readonly up: boolean;
  /** This instance added `id` to `room` as membership `n` (store it, tell the others). */
  added(ns: Namespace, room: string, id: string, keyHash: string, n: string): void;
  /** `id`, a member of instance `of`, left `room` (or was evicted from it, when `of` is another's). */
  removed(ns: Namespace, room: string, id: string, of: string, n: string): void;
  /** Deliver to every member of `room` on the other instances but `except`. */
  broadcast(ns: Namespace, room: string, frame: string, except: string): void;
  /** Deliver to `id` in `room`, a member of `instance`. */
  send(instance: string, ns: Namespace, room: string, id: string, frame: string): void;
  /** Something odd but harmless (a conflicting id), for the log. */
  note(event: string, fields: Record<string, unknown>): void;
}

/** Takeovers remembered per instance (see SharedDirectory's #takenOver); past this, oldest first forgotten. */
const MAX_TAKEN_OVER = 10_000;

interface Entry {
  /** The instance holding the member. */
  inst: string;
  /** Hex SHA-256 of its resume key, '' for none. */
  keyHash: string;
  /** Names this membership within `inst` ('' if unknown: learnt from an instance older than this field). */
  n: string;
  /** Set for this instance's own members. */
  local?: DirectoryMember;
  /** A remote member added by `add` whose `peer-joined` (it follows) has not reached us yet. */
  unannounced?: boolean;
}

/** One namespace (rooms or topics) of a cluster's membership. */
export class SharedDirectory implements RoomDirectory {
  readonly #rooms = new Map<string, Map<string, Entry>>();
  /**
   * Another instance's claim on an id that a different instance holds here, ours or a
   * remote one whose `add` came later (see applyAdd), per `room\0id`: both let the id in
   * at once, or the first one's departure is still on its way. When the holder's membership
   * goes, the id is still the other instance's member, until that one's own news says not.
   */
  readonly #shadows = new Map<string, { inst: string; keyHash: string; n: string }>();
  /**
   * Ids another instance took over from an instance whose member we never knew (per
   * `room\0id`, the taker): its `add` follows, and our members, who never heard the id
   * join, must hear it then (see applyDel).
   */
  readonly #unheard = new Map<string, string>();
  /**
   * Memberships of another instance that a third took over (per instance, `room\0id` to
   * the membership's name). The holder's member list may still name one for a moment: its
   * `sync` or its registration in Redis, made before it heard of the takeover. That list
   * is stale there, and must not hand the id back to the holder (see replaceInstance).
   */
  readonly #takenOver = new Map<string, Map<string, string>>();
  /**
   * Ids we took over (per `room\0id`, from which instance) before that instance's
   * `peer-joined` of them reached us: our members have not heard the peer join, and the
   * takeover is silent, so that announcement, when it comes, is theirs (see deliverLocal).
   */
  readonly #joinOwed = new Map<string, string>();
  /** Numbers our memberships (see Entry.n). */
  #serial = 0;

  constructor(
    private readonly ns: Namespace,
    private readonly bus: ClusterBus,
  ) {}

  add(room: string, member: DirectoryMember): boolean {
    if (this.#entry(room, member.id)) return false;
    const keyHash = member.resumeKeyHash ?? '';
    const n = (++this.#serial).toString(36);
    this.#set(room, member.id, { inst: this.bus.instanceId, keyHash, n, local: member });
    this.bus.added(this.ns, room, member.id, keyHash, n);
    return true;
  }

  remove(room: string, memberId: string): boolean {
    const entry = this.#entry(room, memberId);
    if (!entry) return false;
    this.#delete(room, memberId);
    // Another instance's member: we take it over (its client resumed here).
    if (!entry.local && entry.n !== '') this.#noteTakenOver(entry.inst, slot(room, memberId), entry.n);
    if (!entry.local && entry.unannounced) this.#joinOwed.set(slot(room, memberId), entry.inst);
    if (entry.local) this.#joinOwed.delete(slot(room, memberId));
    this.bus.removed(this.ns, room, memberId, entry.inst, entry.n);
    const shadow = entry.local && this.#shadows.get(slot(room, memberId));
    if (shadow) {
      // Our member goes; the other instance that let the same id in (a client back there
      // before our news of it arrived) still holds it.
      this.#shadows.delete(slot(room, memberId));
      this.#set(room, memberId, { ...shadow });
    }
    return true;
  }

  has(room: string, memberId: string): boolean {
    return this.#entry(room, memberId) !== undefined;
  }

  /** `memberId` of `room` if it is this instance's own member, as `localMembers` lists it. */
  own(room: string, memberId: string): MemberTuple | undefined {
    const e = this.#entry(room, memberId);
    return e?.local ? [this.ns, room, memberId, e.keyHash, e.n] : undefined;
  }

  members(room: string): string[] {
    return [...(this.#rooms.get(room)?.keys() ?? [])];
  }

  size(room: string): number {
    return this.#rooms.get(room)?.size ?? 0;
  }

  roomCount(): number {
    return this.#rooms.size;
  }

  sendTo(room: string, memberId: string, frame: string): boolean {
    const entry = this.#entry(room, memberId);
    if (!entry) return false;
    if (entry.local) {
      entry.local.deliver(frame);
      return true;
    }
    // Cut off from the cluster, a remote member cannot be reached: say so (`unknown-peer`).
    if (!this.bus.up) return false;
    this.bus.send(entry.inst, this.ns, room, memberId, frame);
    return true;
  }

  broadcast(room: string, frame: string, exceptId?: string): number {
    // An announcement about a peer another instance holds (our member with its id left,
    // and it is back there: see remove()) is not news; that instance's own announcements
    // are what the room goes by.
    const about = exceptId === undefined || this.ns !== 'r' ? undefined : this.#entry(room, exceptId);
    if (about && !about.local) return 0;
    let n = 0;
    let remote = 0;
    // Copy first: a delivery may drop a slow member, which edits this map.
    for (const [id, entry] of [...(this.#rooms.get(room) ?? [])]) {
      if (id === exceptId) continue;
      if (!entry.local) remote++;
      else {
        entry.local.deliver(frame);
        n++;
      }
    }
    // A room's broadcasts (peer-joined, peer-left) go out even with no remote member known
    // yet, even with the room empty here: one may be joining elsewhere this very moment,
    // its `add` still on the way. Then either its join reply lists our member or this
    // announcement reaches it; skipping would let two simultaneous joiners on two
    // instances never hear of each other, or one whose join reply listed our leaver never
    // hear it left.
    if ((remote > 0 || this.ns === 'r') && this.bus.up) {
      this.bus.broadcast(this.ns, room, frame, exceptId ?? '');
      n += remote;
    }
    return n;
  }

  // --- Fed by the cluster from pub/sub and Redis ---

  /**
   * Instance `inst` added `id` (a remote member). A local holder of the id keeps it; a
   * remote one's claim is kept aside (see #shadows), the newer claim going first.
   */
  applyAdd(inst: string, room: string, id: string, keyHash: string, n = ''): void {
    const unheard = this.#unheard.get(slot(room, id)) === inst;
    this.#unheard.delete(slot(room, id));
    const entry = this.#entry(room, id);
    if (entry?.local) {
      // Two instances let the same id in at once (a race of a few ms): each keeps its own,
      // and we remember theirs for when ours goes.
      this.bus.note('cluster-id-conflict', { ns: this.ns, other: inst });
      this.#shadows.set(slot(room, id), { inst, keyHash, n });
      return;
    }
    if (entry && entry.inst !== inst) this.#shadows.set(slot(room, id), { inst: entry.inst, keyHash: entry.keyHash, n: entry.n });
    // New to us: its announcement follows (unheard: we announced it just now).
    this.#set(room, id, { inst, keyHash, n, unannounced: !unheard && entry === undefined });
    if (unheard) this.#announce(room, id, 'peer-joined');
  }

  /**
   * `id` of instance `of` left `room`, or instance `by` took it over from `of` (its client
   * came back there with its resume key); if it is one of ours, `by` evicted it.
   */
  applyDel(room: string, id: string, of: string, n = '', by = of): void {
    if (this.#shadows.get(slot(room, id))?.inst === of) this.#shadows.delete(slot(room, id));
    this.#unheard.delete(slot(room, id));
    if (by !== of && of !== this.bus.instanceId && n !== '') this.#noteTakenOver(of, slot(room, id), n);
    const entry = this.#entry(room, id);
    if (of === this.bus.instanceId && !entry?.local && this.ns === 'r') {
      // Another instance took `id` over from us with its resume key, but we had let it go
      // already (its connection lost, or it left) and announced `peer-left`; that instance,
      // our news still on the way to it, took the rejoin for a silent takeover. We alone
      // know the room heard it leave: tell the room (every instance) it is back.
      this.broadcast(room, JSON.stringify({ type: 'peer-joined', room, peerId: id }), id);
      return;
    }
    if (by !== of && !entry && this.ns === 'r') {
      // A takeover is silent (the room knew the peer and it goes on), but we never knew
      // the peer: `of` held it while we were not synced with `of` (we started, or Redis
      // was emptied, after `of` last registered, and `of` died or left unheard since), so
      // our members were never told it joined. They hear it with `by`'s add, next.
      this.#unheard.set(slot(room, id), by);
      return;
    }
    if (!entry || entry.inst !== of) return;
    // A late eviction, meant for an earlier membership of the id (its client came back
    // here again since): the current one stays.
    if (n !== '' && entry.n !== '' && entry.n !== n) return;
    this.#delete(room, id);
    this.#joinOwed.delete(slot(room, id));
    entry.local?.evicted?.();
    // After the eviction, whose own removal must find nothing of ours left to remove.
    if (!this.#entry(room, id)) this.#fallBack(room, id);
  }

  /** Deliver a remote broadcast from instance `from` to this instance's members of `room` but `except`. */
  deliverLocal(room: string, frame: string, except: string, from: string): void {
    // An announcement by `from` about a peer that is, by now, another instance's member
    // (its client came back there) is stale: a departure always (we may have told our
    // members it is back already); its return too when we hold it, as our members know it
    // is here (we announced its join, or took it over before `from`'s departure came).
    const held = this.ns === 'r' && except !== '' ? this.#entry(room, except) : undefined;
    if (held && held.inst !== from && (held.local !== undefined || isType(frame, 'peer-left'))) {
      // But the join we took it over before hearing: our members have not been told yet.
      const owed = held.local !== undefined && this.#joinOwed.get(slot(room, except)) === from && isType(frame, 'peer-joined');
      if (!owed) return;
      this.#joinOwed.delete(slot(room, except));
    }
    if (held?.inst === from && held.unannounced && isType(frame, 'peer-joined')) held.unannounced = false;
    // A join announced of a peer we do not know is stale: an instance's own joiner is known
    // here before its announcement (`add` goes first), and the return announced after a
    // takeover (applyDel) comes after the taker's `add`; so the peer left again since.
    if (this.ns === 'r' && except !== '' && !held && isType(frame, 'peer-joined')) return;
    const entries = this.#rooms.get(room);
    if (!entries) return;
    for (const [id, entry] of [...entries]) if (id !== except && entry.local) entry.local.deliver(frame);
  }

  /** Deliver a remote signal to our member `id` of `room`; dropped if it is not (any more) ours. */
  deliverTo(room: string, id: string, frame: string): void {
    this.#entry(room, id)?.local?.deliver(frame);
  }

  /**
   * Instance `inst` has exactly `members` (of this namespace): add what is new and drop
   * what is gone, telling our members of each change (rooms only; topics have no
   * announcements). Returns the dropped members.
   */
  replaceInstance(inst: string, listed: MemberTuple[]): MemberTuple[] {
    const members = this.#current(inst, listed);
    const wanted = new Set(members.map(([, room, id]) => slot(room, id)));
    for (const [at, shadow] of [...this.#shadows]) if (shadow.inst === inst && !wanted.has(at)) this.#shadows.delete(at);
    const dropped: MemberTuple[] = [];
    for (const [room, entries] of [...this.#rooms]) {
      for (const [id, entry] of [...entries]) {
        if (entry.inst !== inst || entry.local || wanted.has(slot(room, id))) continue;
        if (this.#fallBack(room, id)) continue; // still present, as another instance's
        this.#delete(room, id);
        dropped.push([this.ns, room, id, entry.keyHash]);
        this.#announce(room, id, 'peer-left');
      }
    }
    for (const [, room, id, keyHash, n = ''] of members) {
      const entry = this.#entry(room, id);
      if (entry?.inst === inst) {
        // The same member as far as the room goes; its membership may be a newer one (it
        // left and joined again while we were not listening), which a takeover must name.
        if (n !== '') Object.assign(entry, { keyHash, n });
        continue;
      }
      this.#unheard.delete(slot(room, id)); // announced just below
      this.applyAdd(inst, room, id, keyHash, n);
      const added = this.#entry(room, id);
      if (added?.inst === inst) added.unannounced = false; // announced here, or known already
      // Known here as another instance's, the peer is no news to our members.
      if (!entry && added?.inst === inst) this.#announce(room, id, 'peer-joined');
    }
    return dropped;
  }

  /**
   * `listed`, as instance `inst` gave it, but for the memberships we know another instance
   * took over from it; the takeovers it no longer lists are forgotten (it has heard of them).
   */
  #current(inst: string, listed: MemberTuple[]): MemberTuple[] {
    const taken = this.#takenOver.get(inst);
    if (!taken) return listed;
    const stale = new Map<string, string>();
    const members = listed.filter(([, room, id, , n = '']) => {
      const at = slot(room, id);
      if (n === '' || taken.get(at) !== n) return true;
      stale.set(at, n);
      return false;
    });
    if (stale.size > 0) this.#takenOver.set(inst, stale);
    else this.#takenOver.delete(inst);
    return members;
  }

  /** A remote holder's membership of `id` goes: the claim kept aside takes its place, if any. */
  #fallBack(room: string, id: string): boolean {
    const shadow = this.#shadows.get(slot(room, id));
    if (!shadow) return false;
    this.#shadows.delete(slot(room, id));
    this.#set(room, id, { ...shadow });
    return true;
  }

  #noteTakenOver(inst: string, at: string, n: string): void {
    let taken = this.#takenOver.get(inst);
    if (!taken) this.#takenOver.set(inst, (taken = new Map()));
    taken.delete(at);
    // Bounded: the holder hears of a takeover within a round trip and lists it no more.
    if (taken.size >= MAX_TAKEN_OVER) taken.delete(taken.keys().next().value!);
    taken.set(at, n);
  }

  /** Every remote instance this mirror knows members of (or claims on ids, see #shadows). */
  remoteInstances(): Set<string> {
    const found = new Set<string>();
    for (const entries of this.#rooms.values()) for (const e of entries.values()) if (!e.local) found.add(e.inst);
    for (const shadow of this.#shadows.values()) found.add(shadow.inst);
    return found;
  }

  /** This instance's own members. */
  localMembers(): MemberTuple[] {
    const out: MemberTuple[] = [];
    for (const [room, entries] of this.#rooms) for (const [id, e] of entries) if (e.local) out.push([this.ns, room, id, e.keyHash, e.n]);
    return out;
  }

  /** The resume key hash a remote member `id` of `room` holds it under. */
  remoteKeyHash(room: string, id: string): string | undefined {
    const entry = this.#entry(room, id);
    return entry && !entry.local && entry.keyHash !== '' ? entry.keyHash : undefined;
  }

  #announce(room: string, peerId: string, type: 'peer-joined' | 'peer-left'): void {
    if (this.ns !== 'r') return;
    for (const [id, entry] of [...(this.#rooms.get(room) ?? [])]) {
      if (id !== peerId && entry.local) entry.local.deliver(JSON.stringify({ type, room, peerId }));
    }
  }

  #entry(room: string, id: string): Entry | undefined {
    return this.#rooms.get(room)?.get(id);
  }

  #set(room: string, id: string, entry: Entry): void {
    let entries = this.#rooms.get(room);
    if (!entries) this.#rooms.set(room, (entries = new Map()));
    entries.set(id, entry);
  }

  #delete(room: string, id: string): void {
    const entries = this.#rooms.get(room);
    if (!entries?.delete(id)) return;
    if (entries.size === 0) this.#rooms.delete(room);
  }
}

/** Is `frame` an announcement of `type`? (Asked only of stale-looking ones.) */
function isType(frame: string, type: 'peer-left' | 'peer-joined'): boolean {
  try {
    return (JSON.parse(frame) as { type?: unknown }).type === type;
  } catch {
    return false;
  }
}
