/**
 * Forwarding between peers of a document that cannot connect to each other. The mesh is
 * meant to be complete, but two members may never get a direct connection (a NAT pair
 * that fails, a link that keeps breaking) while both reach a third. Each provider tells
 * its peers which peers it has a connection to and heard links from (its *links*, on the
 * `yjs-links:<name>` channel, sent when they change: so a peer listed runs this document
 * and forwards), and a peer that receives a document update or presence from `from`
 * passes it on to each peer it knows is not connected to `from`, if it is the forwarder
 * of that pair: the lowest peer id among itself and the peers both list (for an older
 * `from`, which lists nobody, the neighbours that list both). Every candidate hears both
 * ends' links, so once they have arrived all agree on one forwarder. Views can differ for
 * a moment, so two may forward or none: Yjs and y-protocols apply a message twice as
 * once, and a peer that becomes a forwarder syncs the pair's target again (see the
 * provider). Forwarded messages are never forwarded again (one hop), so nothing
 * circulates. A pair starts to be forwarded only once it has looked unconnected for
 * {@link FORWARD_AFTER_MS}: while a room forms, its members learn of each other's links
 * one at a time, and every pair would look unconnected for a moment; the sync that starts
 * a duty brings what was missed meanwhile. A pair both ends had listed before (its link
 * broke) waits only {@link FORWARD_LOST_LINK_AFTER_MS}: that is no race of a forming
 * room, and its ends' edits would otherwise stay apart for the long wait on top of the
 * time it took to notice the break.
 * The pair's other common neighbours are its reserves: they sync its ends again now and
 * then, so a forwarder that drops what it should pass on cannot keep the pair apart.
 *
 * A provider that is destroyed while its room stays open (its peer switched documents)
 * sends {@link LINKS_CLOSED}: its peers forget its links and stop listing it, or a pair it
 * was the lowest common neighbour of would be left to a peer that no longer forwards.
 *
 * ```
 * linksMessage = links | closed
 * links  = count:varUint (peerId:varString){count}     ; count <= 1024, ids 1..128 chars
 * closed = (no bytes)                                  ; the sender's provider stopped
 * ```
 */
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import type { PeerId } from '../mesh/types.js';

/** How long a pair must look unconnected before we forward between them. */
export const FORWARD_AFTER_MS = 3000;
/**
 * How long a pair whose link we had seen up (both ends listed each other) must look
 * apart before we forward between them. Not at once: when a peer leaves, a neighbour may
 * hear the other end drop it a moment before it drops that peer itself (a graceful leave
 * reaches everyone within milliseconds; a silent one times out at each peer within about
 * a heartbeat interval of the others), and a duty taken for a peer that is leaving costs a
 * needless sync of its target.
 */
export const FORWARD_LOST_LINK_AFTER_MS = 1000;
/**
 * How often a common neighbour of a pair that is not its forwarder syncs the pair's ends
 * again, times its rank (1 for the next lowest id, 2 for the one after...): see
 * {@link ForwardingTable.recompute}.
 */
export const RESERVE_CHECK_MS = 30_000;
/** Peers one links message may list (a relay allows 64 per room by default). */
export const MAX_LINKS = 1024;
/** Longest peer id a links message may list (the relay's ids are at most 64 characters). */
export const MAX_LINK_ID_LENGTH = 128;

/** The links message of a provider that stopped (no bytes: a links list has at least its count). */
export const LINKS_CLOSED: Uint8Array = new Uint8Array(0);

/** The channel that carries the links of one document's providers. */
export function linksChannelName(docName: string): string {
  return `yjs-links:${docName}`;
}

/** Encode the peers we are connected to. */
export function encodeLinks(peers: Iterable<PeerId>): Uint8Array {
  const ids = [...peers];
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, ids.length);
  for (const id of ids) encoding.writeVarString(e, id);
  return encoding.toUint8Array(e);
}

/**
 * Decode a links message sent by `sender`: its links, `null` when its provider stopped
 * ({@link LINKS_CLOSED}), or the reason when it is malformed. Never throws.
 */
export function decodeLinks(bytes: Uint8Array, sender: PeerId): Set<PeerId> | null | string {
  if (bytes.length === 0) return null;
  try {
    const d = decoding.createDecoder(bytes);
    const count = decoding.readVarUint(d);
    if (count > MAX_LINKS) return `links list ${count} peers, over ${MAX_LINKS}`;
    const ids = new Set<PeerId>();
    for (let i = 0; i < count; i++) {
      const id = decoding.readVarString(d);
      if (id.length === 0 || id.length > MAX_LINK_ID_LENGTH) return `links list a peer id of ${id.length} characters`;
      if (id === sender) return 'links list the sender itself';
      if (ids.has(id)) return `links list ${id} twice`;
      ids.add(id);
    }
    if (decoding.hasContent(d)) return 'trailing bytes after links';
    return ids;
  } catch (err) {
    return `malformed links: ${(err as Error).message}`;
  }
}

/** Key of one forwarding duty: `from`'s messages go to `to`. */
const dutyKey = (from: PeerId, to: PeerId) => JSON.stringify([from, to]);
/** Key of a pair, either way round. */
const pairKey = (a: PeerId, b: PeerId) => (a < b ? dutyKey(a, b) : dutyKey(b, a));

/**
 * What one provider knows of its neighbours' links, and the duties that follow: for each
 * peer we hear from, the peers we pass its messages on to.
 */
export class ForwardingTable {
  /** Each neighbour's links, as it last told us (absent: it never did, e.g. an older peer). */
  #links = new Map<PeerId, ReadonlySet<PeerId>>();
  #duties = new Map<PeerId, PeerId[]>();
  /** Pairs we are a common neighbour of (forwarder or reserve), and since when they have looked apart. */
  #since = new Map<string, number>();
  /** Pairs of our neighbours that both listed each other at some point (their link was up). */
  #wereLinked = new Set<string>();

  constructor(
    private readonly afterMs = FORWARD_AFTER_MS,
    private readonly lostLinkAfterMs = FORWARD_LOST_LINK_AFTER_MS,
  ) {}

  /** `peer` says it is connected to `links`. */
  setLinks(peer: PeerId, links: ReadonlySet<PeerId>): void {
    this.#links.set(peer, links);
    for (const other of links) if (this.#links.get(other)?.has(peer)) this.#wereLinked.add(pairKey(peer, other));
  }

  /** Whether `peer` has told us its links (it runs this document and forwards). */
  knows(peer: PeerId): boolean {
    return this.#links.has(peer);
  }

  /** `peer` is gone, or its provider stopped: what it said no longer holds. */
  forget(peer: PeerId): void {
    this.#links.delete(peer);
    // Its link to anyone counts as never seen up once it speaks again (a reopened provider
    // is a new member of the document: its pairs form like any other's).
    for (const key of this.#wereLinked) if ((JSON.parse(key) as PeerId[]).includes(peer)) this.#wereLinked.delete(key);
  }

  /** The peers to pass `from`'s messages on to (as of the last {@link recompute}). */
  targets(from: PeerId): readonly PeerId[] {
    return this.#duties.get(from) ?? [];
  }

  /**
   * Work out the duties again for `self` with these `neighbours`; returns the duties we did
   * not have before (their target may lack what we would have forwarded to it so far,
   * since it was someone else's duty or nobody's: the caller syncs it again), and when to
   * look again for pairs that are not duties yet only for want of time (`wakeAt`).
   *
   * Also the pairs' ends we are a *reserve* for: pairs apart that long whose forwarder is
   * a lower peer, with our `rank` among their common neighbours (1: next after the
   * forwarder). The one forwarder of a pair may drop what it should pass on (a bug, or a
   * member that lies; with ids the relay hands out, anyone can rejoin until it gets a low
   * one), and nothing else would ever bring the pair's edits across while everyone stays:
   * a reserve syncs the ends again every rank x {@link RESERVE_CHECK_MS}, which costs
   * state vectors and empty answers while the forwarder does its work, and repairs the
   * pair when it does not. A pair whose forwarder leaves is taken on at once, having long
   * looked apart.
   */
  recompute(
    self: PeerId,
    neighbours: ReadonlySet<PeerId>,
    now: number,
  ): { fresh: Array<{ from: PeerId; to: PeerId }>; reserves: Array<{ to: PeerId; rank: number }>; wakeAt?: number } {
    const duties = new Map<PeerId, PeerId[]>();
    const since = new Map<string, number>();
    const fresh: Array<{ from: PeerId; to: PeerId }> = [];
    const reserves: Array<{ to: PeerId; rank: number }> = [];
    let wakeAt: number | undefined;
    for (const to of neighbours) {
      const toLinks = this.#links.get(to);
      if (!toLinks) continue; // unknown: it may be connected to everyone
      for (const from of neighbours) {
        if (from === to || toLinks.has(from)) continue;
        const key = dutyKey(from, to);
        const first = this.#since.get(key) ?? now;
        since.set(key, first);
        const wait = this.#wereLinked.has(pairKey(from, to)) ? this.lostLinkAfterMs : this.afterMs;
        if (now - first < wait) {
          wakeAt = Math.min(wakeAt ?? Infinity, first + wait);
          continue;
        }
        const rank = this.#rank(self, neighbours, from, to);
        if (rank > 0) {
          reserves.push({ to, rank });
          continue;
        }
        let list = duties.get(from);
        if (!list) duties.set(from, (list = []));
        list.push(to);
        if (!this.#duties.get(from)?.includes(to)) fresh.push({ from, to });
      }
    }
    this.#duties = duties;
    this.#since = since;
    return { fresh, reserves, wakeAt };
  }

  /**
   * How many lower peers are connected to both `from` and `to` (0: we forward `from` to
   * `to`): those both list (peers we are not connected to ourselves, too). Only when
   * `from` lists nobody (an older peer) do we take a neighbour's word that it is connected
   * to both: otherwise one peer's links claiming a pair could stop its forwarding; the
   * ends speak for themselves.
   */
  #rank(self: PeerId, neighbours: ReadonlySet<PeerId>, from: PeerId, to: PeerId): number {
    const toLinks = this.#links.get(to);
    const fromLinks = this.#links.get(from);
    let lower = 0;
    if (fromLinks) {
      for (const other of fromLinks) if (other < self && other !== to && toLinks?.has(other)) lower++;
      return lower;
    }
    for (const other of neighbours) {
      if (other >= self || other === from || other === to) continue;
      const links = this.#links.get(other);
      if (links?.has(from) && links.has(to)) lower++;
    }
    return lower;
  }
}
