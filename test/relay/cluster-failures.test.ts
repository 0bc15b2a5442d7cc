/**
 * A relay cluster when Redis fails: lost, each instance keeps serving its own members
 * and, after the instance TTL, announces the others' as left; back (empty, as after a
 * Redis restart), the instances sync and announce each other's members again. Bad data
 * on pub/sub or in Redis is dropped with a logged reason. A relay that cannot reach Redis
 * at start gets a clear `redis-unavailable` error.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ClusterError, createRedisCluster } from '../../signaling/index.js';
import { freePort, waitFor } from '../support/net.js';
import { clusterStoppedAfterEach, joinKnowing, TEST_INSTANCE_TTL_MS, pairAcross } from './cluster-support.js';

const cluster = clusterStoppedAfterEach();

describe('relay cluster: failures', () => {
  it('survives Redis going away and coming back, and says what it did', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const { alice, bob } = await pairAcross(a, b);

    await redis.stop();
    for (const r of [a, b]) await waitFor(() => r.clusterLogs.find((l) => l.event === 'redis-unavailable' && l.code === 'redis-unavailable'), 'the outage logged');
    // A keeps serving its own members: a newcomer there is announced, reaches alice.
    const carol = await a.connect();
    expect((await carol.join('r', { peerId: 'carol' })).type).toBe('joined');
    expect(await alice.nextOf('peer-joined')).toMatchObject({ peerId: 'carol' });
    carol.send({ type: 'signal', room: 'r', to: 'alice', data: 'local' });
    expect(await alice.nextOf('signal')).toMatchObject({ from: 'carol', data: 'local' });
    // Members of the other instance cannot be reached: refused, not silently lost.
    alice.send({ type: 'signal', room: 'r', to: 'bob', data: 'lost' });
    expect(await alice.nextOf('error', 'unknown-peer')).toBeTruthy();
    // After the instance TTL each side announces the other's members as left.
    expect(await bob.nextOf('peer-left', undefined, TEST_INSTANCE_TTL_MS + 5000)).toMatchObject({ peerId: 'alice' });
    expect(await alice.nextOf('peer-left', undefined, TEST_INSTANCE_TTL_MS + 5000)).toMatchObject({ peerId: 'bob' });
    expect(a.clusterLogs.some((l) => l.event === 'redis-partitioned')).toBe(true);

    // Redis back, empty: both register again, and each side hears of the other's members.
    await redis.restart();
    const heard = new Set<string>();
    while (heard.size < 2) heard.add(String((await bob.nextOf('peer-joined', undefined, 15_000)).peerId));
    expect([...heard].sort()).toEqual(['alice', 'carol']);
    expect(await alice.nextOf('peer-joined', undefined, 15_000)).toMatchObject({ peerId: 'bob' });
    alice.send({ type: 'signal', room: 'r', to: 'bob', data: 'again' });
    expect(await bob.nextOf('signal')).toMatchObject({ from: 'alice', data: 'again' });
    for (const r of [a, b]) expect(r.clusterLogs.some((l) => l.event === 'cluster-synced')).toBe(true);
  });

  it('drops malformed pub/sub messages and bad Redis entries with a reason, and goes on', async () => {
    const redis = await cluster.redis();
    const a = await cluster.relay(redis);
    const raw = new Redis(redis.url);
    try {
      // Bad state in Redis, read by an instance that starts after it.
      await raw.sadd('meshparty:instances', 'ghost');
      await raw.set('meshparty:i:ghost', '1', 'PX', 60_000);
      await raw.hset('meshparty:m:ghost', 'not json', '', '["r","r","g"]', 'not-a-hash', '["x","r","g"]', '');
      await raw.set('meshparty:rk:garbage', 'zz', 'PX', 60_000);
      const b = await cluster.relay(redis);
      for (const reason of ['bad-member-entry', 'bad-remembered-key']) {
        expect(b.clusterLogs.some((l) => l.event === 'cluster-message-dropped' && l.reason === reason)).toBe(true);
      }
      // Bad messages on pub/sub.
      const bad = ['not json', '[1,2]', '{"t":"add"}', '{"t":"add","i":"x","ns":"r","room":"r","id":"e","k":"zz"}', '{"t":"nope","i":"x"}', '{"t":"sync","i":"x","members":[[1]]}'];
      for (const text of bad) await raw.publish('meshparty:all', text);
      await waitFor(() => a.clusterLogs.filter((l) => l.event === 'cluster-message-dropped').length >= bad.length, 'every bad message dropped');
      expect(new Set(a.clusterLogs.filter((l) => l.event === 'cluster-message-dropped').map((l) => l.reason))).toEqual(
        new Set(['bad-json', 'not-an-object', 'no-instance', 'bad-add', 'bad-nope', 'bad-sync']),
      );
      // Both still work together.
      const alice = await a.connect();
      await alice.join('r', { peerId: 'alice' });
      const bob = await b.connect();
      await joinKnowing(bob, 'r', ['alice'], { peerId: 'bob' });
      bob.send({ type: 'signal', room: 'r', to: 'alice', data: 'ok' });
      expect(await alice.nextOf('signal')).toMatchObject({ from: 'bob', data: 'ok' });
    } finally {
      raw.disconnect();
    }
  });

  it('a sync that fails once Redis is back is tried again at the next heartbeat', async () => {
    const redis = await cluster.redis();
    const a = await cluster.relay(redis);
    const raw = new Redis(redis.url);
    try {
      // A key of the wrong type makes the sync fail; dropping our connections makes one run.
      await raw.set('meshparty:instances', 'not-a-set');
      await raw.call('CLIENT', 'KILL', 'SKIPME', 'yes');
      await waitFor(() => a.clusterLogs.find((l) => l.event === 'cluster-sync-failed'), 'the sync to fail');
      await raw.del('meshparty:instances');
      await waitFor(() => a.clusterLogs.filter((l) => l.event === 'cluster-synced').length >= 2, 'a later heartbeat to sync');
      expect(await raw.smembers('meshparty:instances')).toHaveLength(1);
    } finally {
      raw.disconnect();
    }
  });

  it('fails at start with redis-unavailable when Redis cannot be reached', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await createRedisCluster({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect(err).toMatchObject({ code: 'redis-unavailable' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
