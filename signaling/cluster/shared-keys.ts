/**
 * Resume keys shared by a relay cluster: ids held on other instances (their key hash
 * travels with the member, see SharedDirectory) and every remembered id (a mirror of
 * Redis keys that expire by themselves, updated from pub/sub). Internal to `signaling/`.
 */
import { RememberedIds, roomSlot as slot } from '../remembered-ids.js';
import type { SharedResumeKeys } from '../resume-keys.js';
import type { SharedDirectory } from './shared-directory.js';

/** A remembered id mirrored here beyond this many is forgotten, oldest first. */
const MAX_MIRRORED = 100_000;

/** Store and tell the others (see redis-cluster.ts): `hash` '' forgets (`givenUp`: see SharedResumeKeys.forget). */
export type KeyPublisher = (room: string, peerId: string, hash: string, ms: number, givenUp?: string) => void;

export class SharedKeys implements SharedResumeKeys {
  /** Remembered ids, as every instance told them. */
  readonly #remembered: RememberedIds;

  constructor(
    private readonly rooms: SharedDirectory,
    private readonly publish: KeyPublisher,
    now: () => number,
  ) {
    this.#remembered = new RememberedIds(MAX_MIRRORED, now);
  }

  owner(room: string, peerId: string): Buffer | undefined {
    const held = this.rooms.remoteKeyHash(room, peerId);
    if (held) return Buffer.from(held, 'hex');
    return this.#remembered.get(slot(room, peerId));
  }

  remember(room: string, peerId: string, hash: Buffer, ms: number): void {
    this.apply(room, peerId, hash.toString('hex'), ms);
    this.publish(room, peerId, hash.toString('hex'), ms);
  }

  forget(room: string, peerId: string, givenUp?: Buffer): void {
    // Most joins forget nothing: only tell the cluster when something was remembered. A
    // give-up is told anyway: another instance may remember the id without our knowing
    // (it swept us, the holder's leave unheard, while we were cut off from Redis).
    if (!this.#remembered.delete(slot(room, peerId)) && !givenUp) return;
    this.publish(room, peerId, '', 0, givenUp?.toString('hex'));
  }

  /** Forget `peerId` if it is remembered by `hash`: its holder gave it up while that could not be told (see redis-cluster.ts). */
  forgetGivenUp(room: string, peerId: string, hash: string): void {
    if (this.#remembered.get(slot(room, peerId))?.toString('hex') === hash) this.forget(room, peerId, Buffer.from(hash, 'hex'));
  }

  /** Remember (or with `hash` '', forget) as told by the cluster. */
  apply(room: string, peerId: string, hash: string, ms: number): void {
    const at = slot(room, peerId);
    if (hash === '' || ms <= 0) this.#remembered.delete(at);
    else this.#remembered.set(at, Buffer.from(hash, 'hex'), ms);
  }

  /** Mirrored ids not yet expired (tests and metrics). */
  get size(): number {
    return this.#remembered.size;
  }
}
