/**
 * Where a relay cluster keeps its state in Redis, and the few multi-step reads and writes
 * on it. Key layout, under a prefix `p` (default `meshparty:`):
 *
 * - `p instances`        set of instance ids that have registered
 * - `p i:<id>`           an instance's heartbeat; expires after `instanceTtlMs` unless refreshed
 * - `p m:<id>`           hash of an instance's members: field JSON [ns, room, id], value its key
 *                        hash ('' none), then a space and the membership's name (see messages.ts)
 * - `p rk:<JSON [room, id]>`  a remembered resume key hash, expiring after the grace period
 *
 * Everything read back is validated; bad entries are skipped and reported (`onBad`).
 * Internal to `signaling/`.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { isKeyHash, isMemberTuple, type MemberTuple, type Namespace } from './messages.js';

/**
 * Drop a dead instance's state, atomically, unless its heartbeat is back: returns its
 * members hash (flattened), or nil if it is alive. Two sweepers at once are harmless.
 */
const SWEEP_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
local all = redis.call('HGETALL', KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return all`;

export class RedisStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onBad: (reason: string) => void,
  ) {}

  readonly channelAll = (): string => `${this.prefix}all`;
  readonly channelOf = (instance: string): string => `${this.prefix}to:${instance}`;
  readonly #heartbeatKey = (instance: string): string => `${this.prefix}i:${instance}`;
  readonly #membersKey = (instance: string): string => `${this.prefix}m:${instance}`;
  readonly #instancesKey = (): string => `${this.prefix}instances`;
  readonly #rememberedKey = (room: string, id: string): string => `${this.prefix}rk:${JSON.stringify([room, id])}`;
  static readonly field = (ns: Namespace, room: string, id: string): string => JSON.stringify([ns, room, id]);

  /** Register `instance` with exactly `members`, heartbeat fresh. */
  async register(instance: string, members: MemberTuple[], ttlMs: number): Promise<void> {
    const m = this.redis.multi();
    m.sadd(this.#instancesKey(), instance);
    m.set(this.#heartbeatKey(instance), String(Date.now()), 'PX', ttlMs);
    m.del(this.#membersKey(instance));
    for (const [ns, room, id, k, n] of members) m.hset(this.#membersKey(instance), RedisStore.field(ns, room, id), memberValue(k, n));
    await m.exec();
  }

  /** Refresh the heartbeat; false if it had expired (the others may have swept us). */
  async heartbeat(instance: string, ttlMs: number): Promise<boolean> {
    const previous = await this.redis.call('SET', this.#heartbeatKey(instance), String(Date.now()), 'PX', String(ttlMs), 'GET');
    await this.redis.sadd(this.#instancesKey(), instance);
    return previous !== null;
  }

  // The writes below go into a MULTI of the caller's (see RedisRelayCluster's batch).

  addMember(to: ChainableCommander, instance: string, ns: Namespace, room: string, id: string, keyHash: string, n: string): void {
    to.hset(this.#membersKey(instance), RedisStore.field(ns, room, id), memberValue(keyHash, n));
  }

  removeMember(to: ChainableCommander, instance: string, ns: Namespace, room: string, id: string): void {
    to.hdel(this.#membersKey(instance), RedisStore.field(ns, room, id));
  }

  /** Remember (or with `hash` '', forget) a resume key. */
  setRemembered(to: ChainableCommander, room: string, id: string, hash: string, ms: number, onlyIfNew = false): void {
    const key = this.#rememberedKey(room, id);
    if (hash === '' || ms <= 0) to.del(key);
    else if (onlyIfNew) to.set(key, hash, 'PX', Math.ceil(ms), 'NX');
    else to.set(key, hash, 'PX', Math.ceil(ms));
  }

  /** Every registered instance but `self`, split by whether its heartbeat is alive. */
  async instances(self: string, alsoCheck: Iterable<string>): Promise<{ alive: string[]; dead: string[] }> {
    const ids = new Set((await this.redis.smembers(this.#instancesKey())).filter((id) => id !== self));
    for (const id of alsoCheck) if (id !== self) ids.add(id);
    const list = [...ids];
    if (list.length === 0) return { alive: [], dead: [] };
    const exists = await Promise.all(list.map((id) => this.redis.exists(this.#heartbeatKey(id))));
    return { alive: list.filter((_, i) => exists[i] === 1), dead: list.filter((_, i) => exists[i] !== 1) };
  }

  /** The members of `instance` as stored. */
  async members(instance: string): Promise<MemberTuple[]> {
    return this.#tuples(await this.redis.hgetall(this.#membersKey(instance)));
  }

  /** Sweep a dead instance (see SWEEP_SCRIPT): its members, or undefined if it is alive after all. */
  async sweep(instance: string): Promise<MemberTuple[] | undefined> {
    const flat = (await this.redis.eval(SWEEP_SCRIPT, 3, this.#heartbeatKey(instance), this.#membersKey(instance), this.#instancesKey(), instance)) as
      | string[]
      | null;
    if (flat === null) return undefined;
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return this.#tuples(fields);
  }

  /** Leave: drop our heartbeat and members. */
  async unregister(instance: string): Promise<void> {
    await this.redis.multi().del(this.#heartbeatKey(instance), this.#membersKey(instance)).srem(this.#instancesKey(), instance).exec();
  }

  /** Every remembered resume key still alive: [room, id, hash, ms left]. */
  async remembered(): Promise<[string, string, string, number][]> {
    const out: [string, string, string, number][] = [];
    const match = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}rk:*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const [hash, ms] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
        const slot = parseSlot(key.slice(this.prefix.length + 3));
        // Expired or forgotten since the scan listed it: nothing odd about that.
        if (hash === null) continue;
        if (!slot || !isKeyHash(hash) || hash === '') this.onBad('bad-remembered-key');
        else if (ms > 0) out.push([slot[0], slot[1], hash, ms]);
      }
    } while (cursor !== '0');
    return out;
  }

  #tuples(fields: Record<string, string>): MemberTuple[] {
    const out: MemberTuple[] = [];
    for (const [field, value] of Object.entries(fields)) {
      const parsed = parseJson(field);
      const at = value.indexOf(' ');
      const [k, n] = at < 0 ? [value, ''] : [value.slice(0, at), value.slice(at + 1)];
      const tuple = Array.isArray(parsed) ? [...parsed, k, n] : undefined;
      if (isMemberTuple(tuple)) out.push(tuple);
      else this.onBad('bad-member-entry');
    }
    return out;
  }
}

/**
 * A member's value in its instance's hash. The membership's name travels with it: an
 * instance that learns the member from here must name it in a takeover, or the takeover,
 * arriving late, evicts whichever membership the id has by then (see SharedDirectory.applyDel).
 */
function memberValue(keyHash: string, n = ''): string {
  return n === '' ? keyHash : `${keyHash} ${n}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseSlot(text: string): [string, string] | undefined {
  const v = parseJson(text);
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && v[0] && v[1] ? [v[0], v[1]] : undefined;
}
