/**
 * Resume keys shared by a relay cluster: ids held on other instances (their key hash
 * travels with the member, see SharedDirectory) and every remembered id (a mirror of
 * Redis keys that expire by themselves, updated from pub/sub). Internal to `signaling/`.
 */
import type { SharedResumeKeys } from '../resume-keys.js';
import type { SharedDirectory } from './shared-directory.js';

/** A remembered id mirrored here beyond this many is forgotten, oldest first. */
const MAX_MIRRORED = 100_000;

const slot = (room: string, peerId: string): string => `${room}\u0000${peerId}`;

/** Store and tell the others (see redis-cluster.ts): `hash` '' forgets. */
export type KeyPublisher = (room: string, peerId: string, hash: string, ms: number) => void;

export class SharedKeys implements SharedResumeKeys {
  /** Remembered ids, insertion order (not quite expiry order: graces may differ). */
  readonly #remembered = new Map<string, { hash: string; until: number }>();

  constructor(
    private readonly rooms: SharedDirectory,
    private readonly publish: KeyPublisher,
    private readonly now: () => number,
  ) {}

  owner(room: string, peerId: string): Buffer | undefined {
    const held = this.rooms.remoteKeyHash(room, peerId);
    if (held) return Buffer.from(held, 'hex');
    const at = slot(room, peerId);
    const entry = this.#remembered.get(at);
    if (!entry) return undefined;
    if (entry.until > this.now()) return Buffer.from(entry.hash, 'hex');
    this.#remembered.delete(at);
    return undefined;
  }

  remember(room: string, peerId: string, hash: Buffer, ms: number): void {
    this.apply(room, peerId, hash.toString('hex'), ms);
    this.publish(room, peerId, hash.toString('hex'), ms);
  }

  forget(room: string, peerId: string): void {
    // Most joins forget nothing: only tell the cluster when something was remembered.
    if (!this.#remembered.delete(slot(room, peerId))) return;
    this.publish(room, peerId, '', 0);
  }

  /** Remember (or with `hash` '', forget) as told by the cluster. */
  apply(room: string, peerId: string, hash: string, ms: number): void {
    const at = slot(room, peerId);
    this.#remembered.delete(at);
    if (hash === '' || ms <= 0) return;
    while (this.#remembered.size >= MAX_MIRRORED) this.#remembered.delete(this.#remembered.keys().next().value!);
    this.#remembered.set(at, { hash, until: this.now() + ms });
  }

  /** Mirrored ids not yet expired (tests and metrics). */
  get size(): number {
    const t = this.now();
    for (const [at, e] of this.#remembered) if (e.until <= t) this.#remembered.delete(at);
    return this.#remembered.size;
  }
}
