/**
 * An instance whose Redis stops answering without the link dropping (Redis hung, or the
 * link silently partitioned: no reset, so TCP may not give up for many minutes). The
 * others sweep it once its heartbeat expires; it used to go on as connected (`/health`
 * said so, no log line), its members still seeing peers long announced to those peers as
 * gone, its news piling up unsent. Now, once a PING has waited `instanceTtlMs`, it
 * drops both connections as a reset would and goes through the outage it is: reported,
 * the others' members dropped, and a sync once Redis answers again. A proxy in front of
 * Redis holds everything Redis sends instance A.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { announcements, clusterStoppedAfterEach, pairAcross } from './cluster-support.js';
import { startRedisProxy } from './redis-proxy.js';

const cluster = clusterStoppedAfterEach();

describe('relay cluster: Redis that stops answering', () => {
  it('is an outage for the instance: reported, the others\' members dropped as they drop its own, all back once Redis answers', async () => {
    const redis = await cluster.redis();
    const proxy = await startRedisProxy(redis.port);
    const a = await cluster.relay(redis, {}, { url: proxy.url });
    const b = await cluster.relay(redis);
    try {
      const { alice, bob } = await pairAcross(a, b);
      proxy.holdReplies();
      const heldAt = Date.now();
      // B sweeps A once A's heartbeat key expires; A must not go on believing bob is there.
      await bob.next((m) => m.type === 'peer-left' && m.peerId === 'alice', 10_000);
      await alice.next((m) => m.type === 'peer-left' && m.peerId === 'bob', 10_000);
      console.log(`A dropped bob ${Date.now() - heldAt} ms after Redis stopped answering it`);
      expect(a.relay.metrics().cluster?.connected).toBe(false);
      expect(a.clusterLogs.find((l) => l.event === 'redis-unresponsive')).toMatchObject({ level: 'error', code: 'redis-unavailable' });
      // A still serves its own members meanwhile.
      alice.send({ type: 'ping' });
      await alice.nextOf('pong');

      const synced = a.clusterLogs.filter((l) => l.event === 'cluster-synced').length;
      proxy.releaseReplies();
      await waitFor(() => a.clusterLogs.filter((l) => l.event === 'cluster-synced').length > synced && a.relay.metrics().cluster?.connected, 'A synced again', 10_000);
      await alice.next((m) => m.type === 'peer-joined' && m.peerId === 'bob', 5000);
      await bob.next((m) => m.type === 'peer-joined' && m.peerId === 'alice', 5000);
      expect(announcements(alice.received)).toEqual(['peer-joined bob', 'peer-left bob', 'peer-joined bob']);
      alice.send({ type: 'signal', room: 'r', to: 'bob', data: 'after the stall' });
      expect(await bob.nextOf('signal')).toMatchObject({ from: 'alice', data: 'after the stall' });
    } finally {
      await proxy.close();
    }
  }, 30_000);
});
