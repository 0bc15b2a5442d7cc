/**
 * Relay cluster races that leave clients with a wrong view of their room unless handled:
 * a client back on another instance just as its old instance announced it left. Redis's
 * own `CLIENT PAUSE WRITE` (which holds every PUBLISH) sets the timing.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import type { Received } from './client.js';
import { clusterStoppedAfterEach, joinKnowing } from './cluster-support.js';

const cluster = clusterStoppedAfterEach();
const KEY = 'owner-key-0123456789abc';

/** The room's announcements in `frames`, as `peer-joined alice` / `peer-left alice`. */
const announcements = (frames: Received[]): string[] =>
  frames.filter((m) => m.type === 'peer-joined' || m.type === 'peer-left').map((m) => `${m.type} ${String(m.peerId)}`);

describe('relay cluster: races', () => {
  it('a client back on another instance just after its old one announced it left is announced as joined', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const raw = new Redis(redis.url);
    try {
      const alice = await a.connect();
      await alice.join('r', { peerId: 'alice', resumeKey: KEY });
      const dave = await a.connect();
      await dave.join('r', { peerId: 'dave' });
      const carol = await b.connect();
      await joinKnowing(carol, 'r', ['alice', 'dave'], { peerId: 'carol' });
      for (const c of [alice, dave]) await c.next((m) => m.type === 'peer-joined' && m.peerId === 'carol');
      const before = { carol: carol.received.length, dave: dave.received.length };

      // A lets alice go (her connection lost) while B still sees her there: A's news is
      // held in Redis, so her join through B takes her over from A, without a peer-joined.
      await raw.call('CLIENT', 'PAUSE', '600', 'WRITE');
      alice.close();
      await waitFor(() => a.logs.find((l) => l.event === 'connection-close' && l.code === 1006), 'A to let alice go');
      const back = await b.connect();
      expect(await back.join('r', { peerId: 'alice', resumeKey: KEY })).toMatchObject({ type: 'joined' });

      // A announced her departure: the room must hear she is back, on both instances.
      await carol.next((m) => m.type === 'peer-joined' && m.peerId === 'alice', 10_000);
      await dave.next((m) => m.type === 'peer-joined' && m.peerId === 'alice', 10_000);
      expect(announcements(carol.received.slice(before.carol))).toEqual(['peer-left alice', 'peer-joined alice']);
      expect(announcements(dave.received.slice(before.dave))).toEqual(['peer-left alice', 'peer-joined alice']);
      expect(announcements(back.received)).toEqual([]);
      // And she is reachable from both.
      dave.send({ type: 'signal', room: 'r', to: 'alice', data: 'from-a' });
      carol.send({ type: 'signal', room: 'r', to: 'alice', data: 'from-b' });
      const got = [await back.nextOf('signal'), await back.nextOf('signal')].map((m) => m.data).sort();
      expect(got).toEqual(['from-a', 'from-b']);
    } finally {
      raw.disconnect();
    }
  });
});
