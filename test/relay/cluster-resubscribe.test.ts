/**
 * A subscriber connection that comes back but cannot subscribe again at once (here an ACL
 * denies SUBSCRIBE for a moment; in the wild, the connection drops again just as it is
 * ready). ioredis's own resubscription failed unhandled (an unhandledRejection, which
 * ends a Node process by default) and was never tried again: the instance stayed `ready`
 * but deaf to the others for good, its members never told of changes elsewhere (fuzz
 * range 101-200 with Redis restarts showed the rejection). The instance subscribes as
 * part of each sync now, so a failed one is retried with the sync; and a sync pass during
 * which a connection dropped (its subscription, or news, lost with it) goes again rather
 * than ending the outage as if nothing had been missed.
 */
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { waitFor } from '../support/net.js';
import type { RelayTestClient, TestRelay } from './client.js';
import { clusterStoppedAfterEach, pairAcross } from './cluster-support.js';

const cluster = clusterStoppedAfterEach();

/** News from each instance reaches the other's members again: carol joins on B, dave on A. Resolves with carol. */
async function newsCrossesBothWays(a: TestRelay, b: TestRelay, alice: RelayTestClient, bob: RelayTestClient): Promise<RelayTestClient> {
  const carol = await b.connect();
  await carol.join('r', { peerId: 'carol' });
  await alice.next((m) => m.type === 'peer-joined' && m.peerId === 'carol', 5000);
  const dave = await a.connect();
  await dave.join('r', { peerId: 'dave' });
  await bob.next((m) => m.type === 'peer-joined' && m.peerId === 'dave', 5000);
  return carol;
}

describe('relay cluster: subscribing again', () => {
  it('an instance whose subscriber could not subscribe again on its return hears the others once it can', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const raw = new Redis(redis.url);
    try {
      const { alice, bob } = await pairAcross(a, b);

      // Both subscribers cut off, and SUBSCRIBE refused while they come back.
      await raw.call('ACL', 'SETUSER', 'default', '-subscribe');
      await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      const back = (r: typeof a): boolean => r.clusterLogs.some((l) => l.event === 'redis-reconnected');
      await waitFor(() => back(a) && back(b), 'both to reconnect', 10_000);
      await new Promise((res) => setTimeout(res, 300)); // a heartbeat or so, still refused
      await raw.call('ACL', 'SETUSER', 'default', '+subscribe');

      const carol = await newsCrossesBothWays(a, b, alice, bob);
      alice.send({ type: 'signal', room: 'r', to: 'carol', data: 'hi' });
      await carol.next((m) => m.type === 'signal' && m.from === 'alice', 5000);
    } finally {
      raw.disconnect();
    }
  });

  it('a subscriber lost while its instance syncs is subscribed again, not left deaf by the sync ending the outage', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const raw = new Redis(redis.url);
    try {
      const { alice, bob } = await pairAcross(a, b);

      // Writes held: the command connections, cut off, come back and start a sync that
      // stops at its first write. Then the subscribers are cut off too, mid-sync.
      await raw.call('CLIENT', 'PAUSE', '1000', 'WRITE');
      await raw.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      const back = (r: typeof a): boolean => r.clusterLogs.some((l) => l.event === 'redis-reconnected');
      await waitFor(() => back(a) && back(b), 'both to reconnect', 10_000);
      await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await waitFor(() => [a, b].every((r) => r.clusterLogs.some((l) => l.event === 'cluster-synced' && r.clusterLogs.indexOf(l) > r.clusterLogs.findIndex((x) => x.event === 'redis-reconnected'))), 'both to sync', 10_000);

      await newsCrossesBothWays(a, b, alice, bob);
    } finally {
      raw.disconnect();
    }
  });
});
