/**
 * The documents a keeper has heard announced but that are still empty, by who announced
 * them. An empty document costs no file and no slot of `maxDocsPerRoom`, only memory (a
 * Y.Doc and its provider, syncing in case a peer has or adds content), so their number is
 * capped too. At the cap, the oldest name of the peer that announced the most is dropped:
 * a peer announcing names by the thousand (a bug, or on purpose) churns its own names,
 * not those of a peer that announced a few. A name is dropped only if nobody else
 * announced it (else that peer merely stops counting for it), and once every peer that
 * announced it has left the room.
 */

/**
 * Empty documents by announcing peer; see the module comment.
 *
 * @example
 * ```ts
 * const empty = new EmptyDocs(1000);
 * for (const dropped of empty.add('notes', fromPeer)) forget(dropped);
 * room.on('peer-left', ({ id }) => empty.peerLeft(id).forEach(forget));
 * ```
 */
export class EmptyDocs {
  /** Name -> the peers that announced it; oldest name first. */
  #byName = new Map<string, Set<string>>();
  /** Peer -> the names it announced that are still empty; oldest first. */
  #byPeer = new Map<string, Set<string>>();

  /** `max`: empty documents held at most (a whole number >= 1). */
  constructor(readonly max: number) {}

  /** Empty documents held. */
  get size(): number {
    return this.#byName.size;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * `peer` announced `name` (new, or held already). Returns the names dropped to make room
   * for a new one, to be forgotten by the caller.
   */
  add(name: string, peer: string): string[] {
    const dropped: string[] = [];
    if (!this.#byName.has(name)) {
      while (this.#byName.size >= this.max) {
        const gone = this.#dropOne();
        if (gone !== undefined) dropped.push(gone);
      }
      this.#byName.set(name, new Set());
    }
    this.#byName.get(name)!.add(peer);
    let names = this.#byPeer.get(peer);
    if (!names) this.#byPeer.set(peer, (names = new Set()));
    names.add(name);
    return dropped;
  }

  /** `name` is no longer empty (it has content now) or no longer held: stop counting it. */
  delete(name: string): void {
    for (const peer of this.#byName.get(name) ?? []) this.#unlink(peer, name);
    this.#byName.delete(name);
  }

  /** `peer` left the room: returns the names nobody in the room announced any more (dropped). */
  peerLeft(peer: string): string[] {
    const dropped: string[] = [];
    for (const name of [...(this.#byPeer.get(peer) ?? [])]) {
      const announcers = this.#byName.get(name)!;
      announcers.delete(peer);
      if (announcers.size === 0) {
        this.#byName.delete(name);
        dropped.push(name);
      }
    }
    this.#byPeer.delete(peer);
    return dropped;
  }

  /**
   * One step towards making room: the peer that announced the most loses its oldest name,
   * which is returned if it was only that peer's (dropped), else kept for the others.
   */
  #dropOne(): string | undefined {
    let most: string | undefined;
    let count = 0;
    for (const [peer, names] of this.#byPeer) {
      if (names.size > count) [most, count] = [peer, names.size];
    }
    if (most === undefined) {
      // Not reached (every name has an announcer), but never loop forever on a bug.
      const oldest = this.#byName.keys().next().value!;
      this.#byName.delete(oldest);
      return oldest;
    }
    const name = this.#byPeer.get(most)!.values().next().value!;
    const announcers = this.#byName.get(name)!;
    this.#unlink(most, name);
    announcers.delete(most);
    if (announcers.size > 0) return undefined;
    this.#byName.delete(name);
    return name;
  }

  #unlink(peer: string, name: string): void {
    const names = this.#byPeer.get(peer);
    names?.delete(name);
    if (names?.size === 0) this.#byPeer.delete(peer);
  }
}
