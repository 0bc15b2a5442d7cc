/**
 * The IndexedDB database a room's document is kept in. A room with a password gets a
 * database of its own per password: the same room name opened without the password (a
 * link an attacker sent, waiting in that room without one) must not load the text
 * written under the password, and then sync it to them.
 */
import { fnv1a32Chars } from '../../src/util/fnv1a.js';
import type { RoomLink } from '../shared/room-link.js';

/** `meshparty:<room>:<doc>` without a password, `meshparty:<room>:<hash>:<doc>` with one. */
export function storeNameFor(link: RoomLink, doc: string): string {
  if (link.password === undefined) return `meshparty:${link.room}:${doc}`;
  // Two 32-bit FNV-1a hashes with different seeds: a name to keep databases apart, not a
  // secret (the text itself is in the database in clear).
  const h1 = fnv1a32Chars(`${link.room}\0${link.password}`);
  const h2 = fnv1a32Chars(`${link.password}\0${link.room}`, h1 ^ 0x5bd1e995);
  return `meshparty:${link.room}:${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}:${doc}`;
}
