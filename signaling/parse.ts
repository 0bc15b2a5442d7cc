/**
 * Turn one text frame into a typed client message, or say exactly why not. Only shapes
 * and types are checked here; limits and room state are the relay's business.
 */
import type { ClientMessage, RelayErrorCode } from '../src/signaling-client/protocol.js';

/** The outcome of parsing one frame. */
export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: RelayErrorCode; reason: string; room?: string };

const fail = (code: RelayErrorCode, reason: string, room?: unknown): ParseResult =>
  typeof room === 'string' ? { ok: false, code, reason, room } : { ok: false, code, reason };

/**
 * Deepest nesting a frame may have. Real frames nest a few levels (an SDP object inside
 * a signal); deeper ones only serve to blow the stack of JSON.stringify when forwarded.
 */
export const MAX_JSON_DEPTH = 32;

/** True if `text` nests arrays/objects deeper than `max` (string contents ignored). One pass, no allocation. */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

const isOptionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((t) => typeof t === 'string');

/**
 * Parse a frame's text. Never throws.
 *
 * @example
 * ```ts
 * const r = parseClientFrame('{"type":"ping"}');
 * if (r.ok) handle(r.message); else refuse(r.code, r.reason);
 * ```
 */
export function parseClientFrame(text: string): ParseResult {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return fail('bad-message', `nested deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('bad-json', 'frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('bad-json', 'frame is not a JSON object');
  }
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'join':
      if (typeof m.room !== 'string' || !isOptionalString(m.token) || !isOptionalString(m.peerId) || !isOptionalString(m.resumeKey)) {
        return fail('bad-message', 'join needs room: string, optional token, peerId and resumeKey: string', m.room);
      }
      // `v` is checked by the relay, so a wrong or missing one is `version-mismatch`.
      return { ok: true, message: m as unknown as ClientMessage };
    case 'leave':
      if (typeof m.room !== 'string') return fail('bad-message', 'leave needs room: string');
      return { ok: true, message: m as unknown as ClientMessage };
    case 'signal':
      if (typeof m.room !== 'string' || typeof m.to !== 'string' || m.data === undefined) {
        return fail('bad-message', 'signal needs room: string, to: string and data', m.room);
      }
      return { ok: true, message: m as unknown as ClientMessage };
    case 'subscribe':
    case 'unsubscribe':
      if (!isStringArray(m.topics)) return fail('bad-message', `${m.type} needs topics: string[]`);
      return { ok: true, message: m as unknown as ClientMessage };
    case 'publish':
      if (typeof m.topic !== 'string') return fail('bad-message', 'publish needs topic: string');
      return { ok: true, message: m as unknown as ClientMessage };
    case 'ping':
      return { ok: true, message: { type: 'ping' } };
    default:
      return fail(typeof m.type === 'string' ? 'unknown-type' : 'bad-message', 'unknown or missing message type');
  }
}
