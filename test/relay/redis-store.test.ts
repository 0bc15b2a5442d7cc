/**
 * RedisStore over a real redis-server: reading remembered resume keys back tells a key
 * gone since the scan listed it (expired, forgotten) from a malformed one.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisStore } from '../../signaling/cluster/redis-store.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';

const HASH = 'a'.repeat(64);
let server: TestRedis | undefined;
let redis: Redis | undefined;

afterEach(async () => {
  redis?.disconnect();
  await server?.stop();
  redis = server = undefined;
});

describe('RedisStore.remembered', () => {
  it('skips a key gone between the scan and the read, and reports a malformed one', async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    const bad: string[] = [];
    const store = new RedisStore(redis, 'p:', (reason) => bad.push(reason));
    const batch = redis.multi();
    store.setRemembered(batch, 'r', 'alice', HASH, 60_000);
    await batch.exec();
    await redis.set('p:rk:garbage', 'zz', 'PX', 60_000);
    // The scan lists a key that expires before it is read (as a forget or an expiry can).
    const real = redis.scan.bind(redis);
    const scanning = redis as unknown as { scan: (...args: unknown[]) => Promise<[string, string[]]> };
    scanning.scan = async (...args: unknown[]) => {
      const [next, keys] = await (real as (...a: unknown[]) => Promise<[string, string[]]>)(...args);
      return [next, [...keys, 'p:rk:["r","gone"]']];
    };
    const got = await store.remembered();
    expect(got.map(([room, id, hash]) => [room, id, hash])).toEqual([['r', 'alice', HASH]]);
    expect(bad).toEqual(['bad-remembered-key']); // the garbage one only
  });
});
