/**
 * What relay instances of one cluster tell each other over Redis pub/sub, and its parser.
 * Everything read from Redis is untrusted input: a frame that does not parse is dropped
 * with a reason (the caller logs it), never thrown.
 *
 * Every message names its sender `i` (an instance id). Membership messages name a
 * namespace `ns`: `r` for meshparty rooms, `t` for y-webrtc topics.
 */

/** `r` = meshparty rooms, `t` = y-webrtc topics. */
export type Namespace = 'r' | 't';

/**
 * One member as instances exchange it: namespace, room, member id, resume key hash ('' =
 * none), and the name of the membership within its instance (as `add` gives it; absent or
 * '' if unknown).
 */
export type MemberTuple = [ns: Namespace, room: string, id: string, keyHash: string, n?: string];

export type ClusterMessage =
  /** `i` added a member of its own; `n` names this membership (unique within `i`). */
  | { t: 'add'; i: string; ns: Namespace; room: string; id: string; k: string; n?: string }
  /**
   * A member of instance `of` is gone (`of` !== `i`: `i` evicted it, its client resumed at
   * `i`); `n`, if known, names the membership meant, so a late eviction spares a newer one.
   */
  | { t: 'del'; i: string; ns: Namespace; room: string; id: string; of: string; n?: string }
  /** Deliver `frame` to every member of `room` on the receiving instance but `except`. */
  | { t: 'bcast'; i: string; ns: Namespace; room: string; frame: string; except: string }
  /** Deliver `frame` to member `id` of `room` (sent on the channel of its instance only). */
  | { t: 'send'; i: string; ns: Namespace; room: string; id: string; frame: string }
  /** Every member of `i` (after it (re)connected): receivers replace what they had of it. */
  | { t: 'sync'; i: string; members: MemberTuple[] }
  /** `i` is leaving the cluster (graceful shutdown): its members are gone. */
  | { t: 'bye'; i: string }
  /** Remember (`k` set) or forget (`k` = '') a resume key hash for `id` in `room`, for `ms`. */
  | { t: 'key'; i: string; room: string; id: string; k: string; ms: number };

export type Parsed = { ok: true; message: ClusterMessage } | { ok: false; reason: string };

const isString = (v: unknown): v is string => typeof v === 'string';
const isNs = (v: unknown): v is Namespace => v === 'r' || v === 't';
/** A key hash: hex SHA-256, or '' for none. */
export const isKeyHash = (v: unknown): v is string => isString(v) && (v === '' || /^[0-9a-f]{64}$/.test(v));

/** Is `v` a well-formed member tuple? */
export function isMemberTuple(v: unknown): v is MemberTuple {
  if (!Array.isArray(v) || (v.length !== 4 && !(v.length === 5 && isString(v[4])))) return false;
  return isNs(v[0]) && isString(v[1]) && v[1] !== '' && isString(v[2]) && v[2] !== '' && isKeyHash(v[3]);
}

/** Parse one pub/sub payload. */
export function parseClusterMessage(text: string): Parsed {
  let m: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, reason: 'not-an-object' };
    m = v as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'bad-json' };
  }
  if (!isString(m.i) || m.i === '') return { ok: false, reason: 'no-instance' };
  const room = isString(m.room) && m.room !== '';
  const id = isString(m.id) && m.id !== '';
  const n = m.n === undefined || isString(m.n);
  const valid = ((): boolean => {
    switch (m.t) {
      case 'add':
        return isNs(m.ns) && room && id && isKeyHash(m.k) && n;
      case 'del':
        return isNs(m.ns) && room && id && isString(m.of) && n;
      case 'bcast':
        return isNs(m.ns) && room && isString(m.frame) && isString(m.except);
      case 'send':
        return isNs(m.ns) && room && id && isString(m.frame);
      case 'sync':
        return Array.isArray(m.members) && m.members.every(isMemberTuple);
      case 'bye':
        return true;
      case 'key':
        return room && id && isKeyHash(m.k) && typeof m.ms === 'number' && m.ms >= 0 && Number.isFinite(m.ms);
      default:
        return false;
    }
  })();
  return valid ? { ok: true, message: m as unknown as ClusterMessage } : { ok: false, reason: `bad-${isString(m.t) ? m.t.slice(0, 16) : 'type'}` };
}
