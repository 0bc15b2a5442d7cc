/**
 * An id its holder gave up (an explicit leave, or its own close) on an instance cut off
 * from Redis: the other instances, sweeping the silent instance, kept the id reserved for
 * the holder's resume key for the grace period, and nobody told them otherwise, so for
 * that long anyone else proposing the id was refused `peer-id-taken`, against "an
 * explicit leave frees the id at once". Once back, the instance forgets it cluster-wide.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { barrier, clusterStoppedAfterEach, joinKnowing, reconnect } from './cluster-support.js';
import { startRedisProxy } from './redis-proxy.js';

const cluster = clusterStoppedAfterEach();

describe('relay cluster: an id given up while cut off', () => {
  it('is free on every instance once its instance is back', async () => {
    const redis = await cluster.redis();
    const proxy = await startRedisProxy(redis.port);
    try {
      const a = await cluster.relay(redis, {}, { url: proxy.url, instanceId: 'inst-a' });
      const b = await cluster.relay(redis);
      const x = await a.connect();
      await x.join('r', { peerId: 'x', resumeKey: 'x-key-0123456789abcdef' });
      // carol keeps the room open throughout (the barriers count rooms).
      const carol = await b.connect();
      await joinKnowing(carol, 'r', ['x'], { peerId: 'carol' });
      await barrier(a, b);
      // A is cut off; x leaves it on purpose; B, hearing nothing, sweeps A and keeps x's key.
      proxy.cut();
      x.send({ type: 'leave', room: 'r' });
      x.send({ type: 'ping' });
      await x.nextOf('pong');
      await waitFor(() => b.clusterLogs.find((l) => l.event === 'cluster-instance-gone' && l.instance === 'inst-a'), 'B to sweep A', 10_000);
      await reconnect(proxy, a, b);
      // Someone else may have the id now, through either instance.
      for (const relay of [b, a]) {
        const other = await relay.connect();
        expect(await other.join('r', { peerId: 'x', resumeKey: 'someone-else-0123456789' })).toMatchObject({ type: 'joined', peerId: 'x' });
        other.send({ type: 'leave', room: 'r' });
        other.send({ type: 'ping' });
        await other.nextOf('pong');
        await barrier(a, b);
      }
    } finally {
      await proxy.close();
    }
  });
});
