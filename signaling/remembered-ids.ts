/**
 * Peer ids remembered by their resume key's hash for a while after their holder
 * disconnected: one instance's own (resume-keys.ts) and a cluster's mirror of every
 * instance's (cluster/shared-keys.ts). Internal to `signaling/`.
 */

/** The key of one peer id in one room, for maps of per-room ids. */
export const roomSlot = (room: string, peerId: string): string => `${room}\u0000${peerId}`;

/**
 * At most `max` remembered ids, each until its own expiry. An expired one reads as absent
 * (and goes then); past `max`, the oldest remembered is forgotten first, so expired ones
 * never hold more than `max` entries either.
 *
 * @example
 * ```ts
 * const ids = new RememberedIds(10_000, Date.now);
 * ids.set(roomSlot('r', 'alice'), keyHash, 60_000);
 * ids.get(roomSlot('r', 'alice')); // keyHash, for 60 s
 * ```
 */
export class RememberedIds {
  /** Oldest remembered first. */
  readonly #entries = new Map<string, { hash: Buffer; until: number }>();

  constructor(
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  /** The hash `slot` is remembered by, if it has not expired. */
  get(slot: string): Buffer | undefined {
    const entry = this.#entries.get(slot);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.hash;
    this.#entries.delete(slot);
    return undefined;
  }

  /** Remember `slot` by `hash` for `ms` from now (as the newest). */
  set(slot: string, hash: Buffer, ms: number): void {
    this.#entries.delete(slot);
    while (this.#entries.size >= this.max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(slot, { hash, until: this.now() + ms });
  }

  /** Forget `slot`; false if it was not remembered. */
  delete(slot: string): boolean {
    return this.#entries.delete(slot);
  }

  /** How many are remembered and not expired (for tests and metrics; drops the expired). */
  get size(): number {
    const t = this.now();
    for (const [slot, entry] of this.#entries) if (entry.until <= t) this.#entries.delete(slot);
    return this.#entries.size;
  }
}
