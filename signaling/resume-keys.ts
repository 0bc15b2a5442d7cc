/**
 * Who owns a peer id in a room: the resume key its holder joined with. A client sends a
 * random secret (`resumeKey`) with its joins; a later join proposing the same id with the
 * same key is the same client coming back (after a network blip, before the relay noticed
 * its old connection died), anyone else is a squatter. Keys are kept as SHA-256 hashes,
 * while the member is in the room and for a grace period after it left by disconnecting,
 * at most `maxRemembered` of the latter (the oldest are forgotten first). Alone, nothing
 * survives a relay restart: then the first comer gets the id, as without keys. With a
 * {@link SharedResumeKeys} (a relay cluster), ids held on other instances and every
 * remembered id live there instead, so a client may come back to any instance.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { RememberedIds, roomSlot as slot } from './remembered-ids.js';

/** What a resume key must look like: 16-128 characters of base64url (the client sends 22). */
export const RESUME_KEY_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** The outcome of {@link ResumeKeys.claim} for a proposed id. */
export type Claim<C> =
  /** Nobody holds or remembers the id with a key (a keyless holder is the caller's business). */
  | { kind: 'free' }
  /** Held or remembered under another key (or the join has none): `peer-id-taken`. */
  | { kind: 'taken' }
  /** Same key: the id is the joiner's; `holder` is the connection that still holds it, if any. */
  | { kind: 'resume'; holder: C | undefined };

const hash = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** The hex SHA-256 of a resume key, as members carry it between relay instances. */
export const hashResumeKey = (key: string): string => hash(key).toString('hex');

/**
 * Resume keys shared between relay instances (see `signaling/cluster/`): synchronous, over
 * a local mirror the cluster keeps up to date. Internal to `signaling/`.
 */
export interface SharedResumeKeys {
  /** The key hash another instance holds `peerId` in `room` under, or any instance remembers it by. */
  owner(room: string, peerId: string): Buffer | undefined;
  /** Remember `peerId` in `room` for `hash` during `ms`, on every instance. */
  remember(room: string, peerId: string, hash: Buffer, ms: number): void;
  /**
   * The id was taken back, or given up (`givenUp`: the key hash its holder had, which left
   * or closed on purpose): forget it on every instance.
   */
  forget(room: string, peerId: string, givenUp?: Buffer): void;
}

/** Resume keys of one relay instance, per (room, peer id) (internal to `signaling/`). */
export class ResumeKeys<C> {
  /** Members that joined with a key, and the connection holding each. */
  readonly #held = new Map<string, { conn: C; hash: Buffer }>();
  /** Members gone by disconnect. */
  readonly #remembered: RememberedIds;

  constructor(
    private readonly graceMs: number,
    private readonly maxRemembered: number,
    private readonly now: () => number,
    /** With a cluster: remembered ids and ids held elsewhere live here, not in this instance. */
    private readonly shared?: SharedResumeKeys,
  ) {
    this.#remembered = new RememberedIds(maxRemembered, now);
  }

  /** May a join with `key` (or none) have `peerId` in `room`? */
  claim(room: string, peerId: string, key: string | undefined): Claim<C> {
    const at = slot(room, peerId);
    const held = this.#held.get(at);
    const owner = held?.hash ?? this.#remembered.get(at) ?? this.shared?.owner(room, peerId);
    if (!owner) return { kind: 'free' };
    if (key === undefined || !timingSafeEqual(owner, hash(key))) return { kind: 'taken' };
    return { kind: 'resume', holder: held?.conn };
  }

  /** `conn` now holds `peerId` in `room` (with `key`, if it sent one). */
  hold(room: string, peerId: string, conn: C, key: string | undefined): void {
    const at = slot(room, peerId);
    this.#remembered.delete(at);
    this.shared?.forget(room, peerId);
    if (key === undefined) this.#held.delete(at);
    else this.#held.set(at, { conn, hash: hash(key) });
  }

  /**
   * `conn` no longer holds `peerId` in `room`. Remembered for the grace period when it
   * disconnected (`remember`); an explicit leave gives the id up at once, and so does a
   * takeover (`takenOver`: the id goes on, held by the connection that took it).
   */
  release(room: string, peerId: string, conn: C, remember: boolean, takenOver = false): void {
    const at = slot(room, peerId);
    const held = this.#held.get(at);
    if (!held || held.conn !== conn) return;
    this.#held.delete(at);
    if (!remember || this.graceMs <= 0 || this.maxRemembered <= 0) return this.shared?.forget(room, peerId, takenOver ? undefined : held.hash);
    if (this.shared) return this.shared.remember(room, peerId, held.hash, this.graceMs);
    this.#remembered.set(at, held.hash, this.graceMs);
  }

  /** Ids remembered after a disconnect, not yet expired or claimed back (for tests and metrics). */
  get remembered(): number {
    return this.#remembered.size;
  }
}
