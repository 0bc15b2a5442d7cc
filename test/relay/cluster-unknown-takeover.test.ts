/**
 * A client taking its id back through another instance from an instance that a third
 * one never knew (Redis emptied, the third started before the holder registered again):
 * the takeover is silent, as the room knew the peer, but the third instance's members
 * never heard it join. Fuzz seed 283 (Redis restarted, then an instance closed unheard
 * and one started) ended with such a member never told of the peer. `FLUSHALL` and a
 * holder that beats slowly set the timing.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import type { Received } from './client.js';
import { clusterStoppedAfterEach, joinKnowing } from './cluster-support.js';

const cluster = clusterStoppedAfterEach();
const KEY = 'alice-key-0123456789abc';

const announcements = (frames: Received[]): string[] =>
  frames.filter((m) => m.type === 'peer-joined' || m.type === 'peer-left').map((m) => `${m.type} ${String(m.peerId)}`);

describe('relay cluster: a takeover from an instance unknown to another', () => {
  it('members of the instance that never knew the peer hear it join', async () => {
    const redis = await cluster.redis();
    // A beats rarely: after the flush it stays unregistered for the whole test. B keeps
    // A's members through its TTL (it does not sweep them as left meanwhile).
    const a = await cluster.relay(redis, {}, { instanceId: 'inst-a', heartbeatMs: 30_000, instanceTtlMs: 60_000 });
    const b = await cluster.relay(redis, {}, { instanceId: 'inst-b', heartbeatMs: 200, instanceTtlMs: 10_000 });
    const raw = new Redis(redis.url);
    try {
      const alice = await a.connect();
      await alice.join('r', { peerId: 'alice', resumeKey: KEY });
      const bob = await b.connect();
      await joinKnowing(bob, 'r', ['alice'], { peerId: 'bob' });
      await alice.nextOf('peer-joined');

      // Redis emptied: B registers again at its next beat, A not.
      const synced = (): number => b.clusterLogs.filter((l) => l.event === 'cluster-synced').length;
      const before = synced();
      await raw.flushall();
      await waitFor(() => synced() > before, 'B to register again', 10_000);

      // C starts now and reads only B's members: alice is unknown to it.
      const c = await cluster.relay(redis);
      const carol = await c.connect();
      const reply = await carol.join('r', { peerId: 'carol' });
      expect(reply).toMatchObject({ type: 'joined', peers: ['bob'] });
      await bob.next((m) => m.type === 'peer-joined' && m.peerId === 'carol');
      const heard = bob.received.length;

      // alice comes back through B, which takes her over from A without a word to the room.
      const back = await b.connect();
      expect(await back.join('r', { peerId: 'alice', resumeKey: KEY })).toMatchObject({ type: 'joined', peers: ['bob', 'carol'] });
      await alice.next((m) => m.type === 'error' && m.code === 'peer-id-resumed');

      // carol never heard alice join: she must now. bob knew her all along: he hears nothing.
      await carol.next((m) => m.type === 'peer-joined' && m.peerId === 'alice', 5000);
      carol.send({ type: 'signal', room: 'r', to: 'alice', data: 'hi' });
      expect(await back.nextOf('signal')).toMatchObject({ from: 'carol', data: 'hi' });
      bob.send({ type: 'signal', room: 'r', to: 'alice', data: 'hello' });
      expect(await back.nextOf('signal')).toMatchObject({ from: 'bob', data: 'hello' });
      expect(announcements(bob.received.slice(heard))).toEqual([]);
      expect(announcements(carol.received)).toEqual(['peer-joined alice']);
    } finally {
      raw.disconnect();
    }
  });
});
