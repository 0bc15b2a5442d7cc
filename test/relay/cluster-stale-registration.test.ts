/**
 * A takeover racing its holder's sync: B takes x over from A (striking x from A's member
 * list in Redis) while A, resyncing, publishes and registers the member list it had
 * before it heard, x still in it. Neither may give x back to A: not the `sync` message,
 * at an instance that heard of the takeover first (C), nor A's list in Redis, at one
 * reading it later (D, starting); either way x would be a ghost there once it leaves B,
 * its departure never told. Redis's `CLIENT PAUSE WRITE` holds every instance's writes,
 * which Redis then runs in the order they were held: B's (its heartbeat is held first)
 * before A's sync.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { clusterStoppedAfterEach, joinKnowing } from './cluster-support.js';

const cluster = clusterStoppedAfterEach();
const KEY = 'x-key-0123456789abcdef';
const FIELD = JSON.stringify(['r', 'r', 'x']);

describe('relay cluster: a member list older than a takeover', () => {
  it('gives the member taken over back to its old holder nowhere', async () => {
    const redis = await cluster.redis();
    // A beats rarely: while writes are held, its only write is its sync's registration.
    const a = await cluster.relay(redis, {}, { instanceId: 'inst-a', heartbeatMs: 30_000, instanceTtlMs: 60_000 });
    const b = await cluster.relay(redis, {}, { instanceId: 'inst-b', heartbeatMs: 100, instanceTtlMs: 10_000 });
    const c = await cluster.relay(redis, {}, { instanceId: 'inst-c', instanceTtlMs: 10_000 });
    const raw = new Redis(redis.url);
    try {
      const first = await a.connect();
      await first.join('r', { peerId: 'x', resumeKey: KEY });
      const carol = await b.connect();
      await joinKnowing(carol, 'r', ['x'], { peerId: 'carol' });
      const dave = await c.connect();
      await joinKnowing(dave, 'r', ['x', 'carol'], { peerId: 'dave' });
      for (const p of [first, carol]) await p.next((m) => m.type === 'peer-joined' && m.peerId === 'dave');

      await raw.call('CLIENT', 'PAUSE', '1500', 'WRITE');
      await new Promise((r) => setTimeout(r, 300)); // B's heartbeat is held by now
      // Every subscriber cut: each syncs again, A listing x (its snapshot) once writes run.
      const reconnected = (r: typeof a): number => r.clusterLogs.filter((l) => l.event === 'redis-reconnected').length;
      await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await waitFor(() => [a, b, c].every((r) => reconnected(r) > 0), 'all to resync', 5000);
      await new Promise((r) => setTimeout(r, 100));
      // x's client comes back through B, which takes x over from A.
      const back = await b.connect();
      expect(await back.join('r', { peerId: 'x', resumeKey: KEY })).toMatchObject({ type: 'joined' });
      // Writes run: B's takeover, then A's sync; then A hears of the takeover.
      await first.next((m) => m.type === 'error' && m.code === 'peer-id-resumed', 5000);
      await waitFor(async () => (await raw.hexists('meshparty:m:inst-a', FIELD)) === 0, "x off A's member list", 5000);
      expect(await raw.hexists('meshparty:m:inst-b', FIELD)).toBe(1);
      await waitFor(() => c.clusterLogs.filter((l) => l.event === 'cluster-synced').length > 1, 'C to sync', 5000);

      // An instance starting now finds x on B alone.
      const d = await cluster.relay(redis);
      const erin = await d.connect();
      expect((await erin.join('r', { peerId: 'erin' })).peers.sort()).toEqual(['carol', 'dave', 'x']);
      for (const p of [dave, erin]) {
        p.send({ type: 'signal', room: 'r', to: 'x', data: 'hi' });
        expect(await back.nextOf('signal')).toMatchObject({ data: 'hi' });
      }
      // x leaves B: everyone hears it, and nobody keeps it.
      back.send({ type: 'leave', room: 'r' });
      for (const p of [carol, dave, erin]) await p.next((m) => m.type === 'peer-left' && m.peerId === 'x', 5000);
      for (const r of [a, b, c, d]) expect(r.relay.metrics().rooms).toBe(1);
      for (const r of [c, d]) expect((await (await r.connect()).join('r', { peerId: `probe-${r === c ? 'c' : 'd'}` })).peers).not.toContain('x');
    } finally {
      raw.disconnect();
    }
  });
});
