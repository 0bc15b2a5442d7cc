/**
 * Room tokens: `base64url(JSON {room, exp}) "." base64url(HMAC-SHA256(secret, payloadPart))`.
 * `exp` is in seconds since the Unix epoch. A token admits its holder to exactly one room
 * until it expires; the relay checks the signature (constant-time), then expiry, then room.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Options of {@link createRoomToken}: give `expiresInSeconds` or `expiresAt`.
 *
 * @example
 * ```ts
 * const options: RoomTokenOptions = { secret, room: 'standup', expiresAt: new Date('2026-12-01T09:00:00Z') };
 * const token = createRoomToken(options);
 * ```
 */
export interface RoomTokenOptions {
  /** The relay's secret (the same string passed to the relay as `secret`). */
  secret: string;
  /** The one room this token admits to. */
  room: string;
  /** Lifetime from now, in seconds. */
  expiresInSeconds?: number;
  /** Absolute expiry as a Date or in ms since the epoch. */
  expiresAt?: Date | number;
  /** Clock in ms since the epoch (tests); defaults to `Date.now`. */
  now?: () => number;
}

/**
 * Why a token was refused; these are also the relay's error codes.
 *
 * @example
 * ```ts
 * const refusal: TokenRefusal | null = verifyRoomToken({ secret, room, token });
 * if (refusal === 'token-expired') res.status(401).send('ask for a new invitation link');
 * ```
 */
export type TokenRefusal = 'token-required' | 'token-invalid' | 'token-expired' | 'token-wrong-room';

function sign(secret: string, payloadPart: string): Buffer {
  return createHmac('sha256', secret).update(payloadPart).digest();
}

/**
 * Create a signed room token for a relay started with the same `secret`.
 *
 * @example
 * ```ts
 * const token = createRoomToken({ secret: process.env.RELAY_SECRET!, room: 'team-notes', expiresInSeconds: 3600 });
 * // client: { type: 'join', v: 1, room: 'team-notes', token }
 * ```
 */
export function createRoomToken(options: RoomTokenOptions): string {
  const { secret, room } = options;
  if (!secret) throw new TypeError('createRoomToken: secret is required');
  if (typeof room !== 'string' || room.length === 0) throw new TypeError('createRoomToken: room is required');
  const nowMs = (options.now ?? Date.now)();
  let expMs: number;
  if (options.expiresAt !== undefined) {
    expMs = options.expiresAt instanceof Date ? options.expiresAt.getTime() : options.expiresAt;
  } else if (options.expiresInSeconds !== undefined) {
    expMs = nowMs + options.expiresInSeconds * 1000;
  } else {
    throw new TypeError('createRoomToken: give expiresInSeconds or expiresAt');
  }
  if (!Number.isFinite(expMs)) throw new TypeError('createRoomToken: expiry is not a finite time');
  const payloadPart = Buffer.from(JSON.stringify({ room, exp: Math.floor(expMs / 1000) })).toString('base64url');
  return `${payloadPart}.${sign(secret, payloadPart).toString('base64url')}`;
}

/**
 * Check `token` for `room`; returns `null` when it admits, otherwise the refusal code.
 *
 * @example
 * ```ts
 * const refusal = verifyRoomToken({ secret, room: 'team-notes', token });
 * if (refusal) reject(refusal);
 * ```
 */
export function verifyRoomToken(args: { secret: string; room: string; token: unknown; nowMs?: number }): TokenRefusal | null {
  const { secret, room, token } = args;
  if (token === undefined || token === null || token === '') return 'token-required';
  // Tokens are short; anything long is not ours, and we do not want to HMAC megabytes.
  if (typeof token !== 'string' || token.length > 2048) return 'token-invalid';
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return 'token-invalid';
  const payloadPart = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = sign(secret, payloadPart);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'token-invalid';
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  } catch {
    return 'token-invalid';
  }
  if (typeof payload !== 'object' || payload === null) return 'token-invalid';
  const { room: tokenRoom, exp } = payload as { room?: unknown; exp?: unknown };
  if (typeof tokenRoom !== 'string' || typeof exp !== 'number' || !Number.isFinite(exp)) return 'token-invalid';
  if ((args.nowMs ?? Date.now()) >= exp * 1000) return 'token-expired';
  if (tokenRoom !== room) return 'token-wrong-room';
  return null;
}
