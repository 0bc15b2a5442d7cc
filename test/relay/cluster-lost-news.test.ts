/**
 * Redis lost part-way through an instance's news (restarted, or its link cut): a change
 * and its announcement reach the other instances together or not at all, so what their
 * members were told matches their mirror and the sync on return corrects both. Sent one
 * by one, the change could land and its announcement not (or a takeover's `del` land and
 * its `add` not): members were told what the mirror never saw, or never told what it did,
 * and no sync put that right (chaos test seed 109 under load: a client told of a peer's
 * return after a takeover, never of its departure after). A proxy in front of Redis cuts
 * instance A's link right after its next PUBLISH.
 */
import { describe, expect, it } from 'vitest';
import type { RelayTestClient } from './client.js';
import { announcements, barrier, clusterStoppedAfterEach, joinKnowing, pairAcross, reconnect, type ClusterRelay } from './cluster-support.js';
import { startRedisProxy, type RedisProxy } from './redis-proxy.js';

const cluster = clusterStoppedAfterEach();
const KEY = 'owner-key-0123456789abc';

/** A (through `proxy`) and B, sharing a fresh Redis. */
async function twoInstances(): Promise<{ a: ClusterRelay; b: ClusterRelay; proxy: RedisProxy }> {
  const redis = await cluster.redis();
  const proxy = await startRedisProxy(redis.port);
  const a = await cluster.relay(redis, {}, { url: proxy.url });
  const b = await cluster.relay(redis);
  return { a, b, proxy };
}

/** What `client` believes the room holds: its join reply, then the announcements after it. */
function view(client: RelayTestClient): string[] {
  const at = client.received.findIndex((m) => m.type === 'joined');
  const seen = new Set(client.received[at]!.peers as string[]);
  for (const m of client.received.slice(at + 1)) {
    if (m.type === 'peer-joined') seen.add(String(m.peerId));
    if (m.type === 'peer-left') seen.delete(String(m.peerId));
  }
  return [...seen].sort();
}

describe('relay cluster: news cut short by a lost Redis', () => {
  it('a peer taken over just as its holder let it go, then gone, is not announced back', async () => {
    const { a, b, proxy } = await twoInstances();
    try {
      const first = await b.connect();
      await first.join('r', { peerId: 'x', resumeKey: KEY });
      const carol = await b.connect();
      await joinKnowing(carol, 'r', ['x'], { peerId: 'carol' });
      await barrier(a, b);
      // A hears nothing more: to it x stays B's. B lets x go (its connection lost): carol hears it.
      proxy.holdReplies();
      first.close();
      await carol.next((m) => m.type === 'peer-left' && m.peerId === 'x');
      // x back through A takes x over from B; A's link is cut right after the takeover's first PUBLISH.
      const cut = proxy.cutAfterPublish();
      const back = await a.connect();
      expect(await back.join('r', { peerId: 'x', resumeKey: KEY })).toMatchObject({ type: 'joined' });
      await cut;
      // x leaves while A is cut off.
      back.send({ type: 'leave', room: 'r' });
      back.send({ type: 'ping' });
      await back.nextOf('pong');
      proxy.releaseReplies();
      await reconnect(proxy, a, b);
      expect(view(carol)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('a departure whose news was cut short is announced on the instance\'s return', async () => {
    const { a, b, proxy } = await twoInstances();
    try {
      const { alice, bob } = await pairAcross(a, b);
      const heard = bob.received.length;
      const cut = proxy.cutAfterPublish();
      alice.send({ type: 'leave', room: 'r' });
      await cut;
      await reconnect(proxy, a, b);
      expect(announcements(bob.received.slice(heard))).toEqual(['peer-left alice']);
      expect(view(bob)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('a join whose news was cut short is announced on the instance\'s return', async () => {
    const { a, b, proxy } = await twoInstances();
    try {
      const bob = await b.connect();
      await bob.join('r', { peerId: 'bob' });
      await barrier(a, b);
      const cut = proxy.cutAfterPublish();
      const alice = await a.connect();
      expect(await alice.join('r', { peerId: 'alice' })).toMatchObject({ type: 'joined', peers: ['bob'] });
      await cut;
      await reconnect(proxy, a, b);
      expect(view(bob)).toEqual(['alice']);
      bob.send({ type: 'signal', room: 'r', to: 'alice', data: 'hi' });
      expect(await alice.nextOf('signal')).toMatchObject({ from: 'bob', data: 'hi' });
    } finally {
      await proxy.close();
    }
  });
});
