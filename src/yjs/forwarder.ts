/**
 * One provider's part in forwarding (forwarding.ts has the rule and the links message): it
 * listens on the document's links channel, tells the peers our links when they change,
 * works out our duties (again once a pair has looked apart long enough) and passes
 * updates and presence on to the peers they are due to.
 */
import { encodeAwarenessUpdate, type Awareness } from 'y-protocols/awareness';
import type { Channel, PeerId } from '../mesh/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { decodeLinks, encodeLinks, FORWARD_AFTER_MS, ForwardingTable, LINKS_CLOSED, RESERVE_CHECK_MS } from './forwarding.js';
import type { PeerOutbox } from './outbox.js';
import { encodeAwareness } from './protocol.js';

/** What a {@link Forwarder} needs of its provider. */
export interface ForwarderHost {
  /** Our peer id (the room's). */
  readonly selfId: PeerId;
  /**
   * The peers of the document, each with its outbox, the presence clients it speaks for
   * and, of those, the ones it passed on for other peers.
   */
  readonly peers: ReadonlyMap<PeerId, { outbox: PeerOutbox; clients: ReadonlySet<number>; relayed: ReadonlySet<number> }>;
  readonly awareness: Awareness;
  readonly clock: Clock;
  /** The provider has stopped: nothing more is sent. */
  stopped(): boolean;
  /** Sync again with these peers (a hello, and an answer to the recheck that follows). */
  resync(peers: PeerId[]): void;
  /** A bad links message from `from`. */
  strike(from: PeerId, reason: string): void;
}

/** See the module comment. */
export class Forwarder {
  #table = new ForwardingTable();
  /** A reckoning is scheduled (in a microtask). */
  #dirty = false;
  /** The links we last sent everyone, as one string. */
  #sent: string | undefined;
  /** When to reckon again: a pair that looks apart becomes a duty in time. */
  #timer: TimerHandle | undefined;
  /** The ends of pairs another peer forwards, and our rank among their common neighbours. */
  #reserves: Array<{ to: PeerId; rank: number }> = [];
  /** The next reserve check, while we are a reserve of some pair. */
  #checkTimer: TimerHandle | undefined;
  /** Reserve checks so far: one of rank r syncs its ends on every r-th. */
  #checks = 0;
  /**
   * Peers that said their provider stopped: until when we take no links from them, and the
   * latest they sent meanwhile (taken then). Each change of the peers we list goes to every
   * peer, so one that said closed and links in turn would have us all send ours with each.
   */
  #closedUntil = new Map<PeerId, { until: number; links?: Set<PeerId> }>();

  constructor(
    private readonly channel: Channel,
    private readonly host: ForwarderHost,
  ) {}

  /** Listen for the peers' links; returns the function that stops it (and the timer). */
  listen(): () => void {
    const off = this.channel.on('message', ({ from, data }) => this.#received(from, data));
    return () => {
      off();
      if (this.#timer !== undefined) this.host.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#stopChecks();
    };
  }

  /** Our peers changed (one joined or left): tell them and reckon again, in a microtask. */
  changed(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    // A provider starting with many peers, or a burst of joins, is one message per peer
    // and one reckoning, not one per change.
    queueMicrotask(() => {
      this.#dirty = false;
      if (!this.host.stopped()) this.#reckon();
    });
  }

  /** Send `to` our links (its provider has just opened: what we sent before was dropped at its end). */
  sendLinks(to: PeerId): void {
    // A lost one (its queue full) leaves the peer with older links until ours change again.
    this.channel.send(to, encodeLinks(this.#linked())).catch(() => {});
  }

  /** Pass on an update or sync step 2 `from` sent us. */
  update(from: PeerId, update: Uint8Array): void {
    for (const to of this.#table.targets(from)) this.host.peers.get(to)?.outbox.forwardUpdate(update);
  }

  /** Pass on a presence update `from` sent us, about these `clients`. */
  presence(from: PeerId, awarenessUpdate: Uint8Array, clients: Iterable<number>): void {
    const targets = this.#table.targets(from);
    if (targets.length === 0) return;
    const message = encodeAwareness(awarenessUpdate, true);
    const key = presenceKey(from, clients);
    for (const to of targets) this.host.peers.get(to)?.outbox.forwardPresence(message, key, from);
  }

  /**
   * `peer` is leaving (call while the host still has it): the peers we passed its presence
   * on to cannot see it go, so tell them its clients are gone; forget its links.
   */
  gone(peer: PeerId): void {
    const removal = this.#table.targets(peer).length > 0 ? this.#presenceOf(peer, false) : undefined;
    if (removal) this.presence(peer, removal.update, removal.clients);
    this.#table.forget(peer);
    this.#closedUntil.delete(peer);
    this.changed();
  }

  /**
   * Our provider is stopping while the room may stay open: tell the peers, so that they
   * stop listing us. Otherwise, for as long as we stay in the room, a pair of which we were
   * the lowest common neighbour would be left to us, and nobody would pass on its edits.
   */
  close(): void {
    for (const to of this.host.peers.keys()) this.channel.send(to, LINKS_CLOSED).catch(() => {}); // (a closed room: nobody to tell)
  }

  #received(from: PeerId, data: Uint8Array): void {
    if (this.host.stopped() || !this.host.peers.has(from)) return; // (a blocked peer has no session)
    const links = decodeLinks(data, from);
    if (typeof links === 'string') return this.host.strike(from, links);
    const now = this.host.clock.now();
    const closed = this.#closedUntil.get(from);
    if (links === null) {
      // Stopped: no longer a forwarder, and no longer listed, until its links come again
      // (a provider opened again sends them), at the earliest FORWARD_AFTER_MS from now.
      this.#table.forget(from);
      this.#closedUntil.set(from, { until: closed && closed.until > now ? closed.until : now + FORWARD_AFTER_MS });
    } else if (closed && closed.until > now) {
      closed.links = links; // taken when the wait is over (#reckon)
      return;
    } else {
      this.#closedUntil.delete(from);
      this.#table.setLinks(from, links);
    }
    this.changed();
  }

  /** Take the links that waited for a closed peer's wait to end; returns when the next wait ends. */
  #releaseClosed(now: number): number | undefined {
    let next: number | undefined;
    for (const [peer, closed] of this.#closedUntil) {
      if (closed.until > now) next = Math.min(next ?? Infinity, closed.until);
      else if (closed.links) {
        this.#closedUntil.delete(peer);
        this.#table.setLinks(peer, closed.links);
      }
    }
    return next;
  }

  #reckon(): void {
    const now = this.host.clock.now();
    const closedWait = this.#releaseClosed(now);
    const ids = [...this.host.peers.keys()];
    const linked = this.#linked().join('\n');
    if (linked !== this.#sent) {
      this.#sent = linked;
      for (const id of ids) this.sendLinks(id);
    }
    const recomputed = this.#table.recompute(this.host.selfId, new Set(ids), now);
    const { fresh, reserves } = recomputed;
    const wakeAt = closedWait === undefined ? recomputed.wakeAt : Math.min(recomputed.wakeAt ?? Infinity, closedWait);
    if (this.#timer !== undefined) this.host.clock.clearTimeout(this.#timer);
    this.#timer = wakeAt === undefined ? undefined : this.host.clock.setTimeout(() => ((this.#timer = undefined), this.changed()), wakeAt - now);
    this.#reserves = reserves;
    if (reserves.length === 0) this.#stopChecks();
    else this.#checkTimer ??= this.host.clock.setTimeout(() => this.#check(), RESERVE_CHECK_MS);
    // New duties: what we would have passed on may be missing at the target (the previous
    // forwarder left, or nobody forwarded): sync it again, and show it the presence we
    // now pass on.
    this.host.resync([...new Set(fresh.map(({ to }) => to))]);
    for (const { from, to } of fresh) {
      const presence = this.#presenceOf(from, true);
      if (presence) this.host.peers.get(to)?.outbox.forwardPresence(encodeAwareness(presence.update, true), presenceKey(from, presence.clients), from);
    }
  }

  /**
   * We are a reserve of pairs another peer forwards (forwarding.ts: recompute): sync their
   * ends again, so what a forwarder that drops messages kept from one end reaches the
   * other (each end's recheck is answered with what it lacks, and we are connected to
   * both, so we hold what the other sent). While the forwarder does its work, this is
   * state vectors and answers with nothing new.
   */
  #check(): void {
    this.#checkTimer = undefined;
    if (this.host.stopped() || this.#reserves.length === 0) return;
    const checks = ++this.#checks;
    const due = new Set(this.#reserves.filter(({ rank }) => checks % rank === 0).map(({ to }) => to));
    if (due.size > 0) this.host.resync([...due]);
    this.#checkTimer = this.host.clock.setTimeout(() => this.#check(), RESERVE_CHECK_MS);
  }

  #stopChecks(): void {
    if (this.#checkTimer !== undefined) this.host.clock.clearTimeout(this.#checkTimer);
    this.#checkTimer = undefined;
  }

  /**
   * The peers we list in our links: connected, and told us theirs. Only those, so a peer
   * listed by both ends of a pair is known to run this document and forward. (An older
   * peer, which sends none, is never listed: its edits may be forwarded to peers
   * connected to it, which Yjs applies once.)
   */
  #linked(): PeerId[] {
    return [...this.host.peers.keys()].filter((id) => this.#table.knows(id)).sort();
  }

  /**
   * The presence of `peer`'s own clients: their states, or (`withStates` false) their
   * removal. Not those it passed on to us for others (one hop): their peer may well be
   * connected to our target, which would take our removal, when `peer` goes, for theirs.
   */
  #presenceOf(peer: PeerId, withStates: boolean): { update: Uint8Array; clients: number[] } | undefined {
    const { awareness } = this.host;
    const sync = this.host.peers.get(peer);
    const clients = [...(sync?.clients ?? [])].filter((c) => !sync?.relayed.has(c) && awareness.meta.has(c) && (!withStates || awareness.states.has(c)));
    if (clients.length === 0) return undefined;
    return { update: encodeAwarenessUpdate(awareness, clients, withStates ? awareness.states : new Map()), clients };
  }
}

/**
 * The outbox key of presence passed on for `from` about `clients`: a message still
 * waiting is replaced only by a newer one about the same clients. Keyed by sender alone,
 * a peer's new client's presence replaced its old client's goodbye (a document closed and
 * opened again while a rename was in flight), and the far peer showed the old one for as
 * long as we stayed.
 */
function presenceKey(from: PeerId, clients: Iterable<number>): string {
  return `presence:${from}:${[...clients].sort((x, y) => x - y).join(',')}`;
}
