/**
 * Relay cluster races that leave clients with a wrong view of their room unless handled:
 * a client back on another instance just as its old instance announced it left, and an
 * emptied Redis read by one instance before the others registered again. Redis's own
 * `CLIENT PAUSE WRITE` (which holds every PUBLISH) and `FLUSHALL` set the timing.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import type { RelayTestClient } from './client.js';
import { announcements, barrier, clusterStoppedAfterEach, joinKnowing, type ClusterRelay, pairAcross } from './cluster-support.js';

const cluster = clusterStoppedAfterEach();
const KEY = 'owner-key-0123456789abc';

/**
 * With every PUBLISH held (so no news crosses): x, lost on A, comes back through B (which
 * takes x over from A, not knowing A let it go), is lost there too and comes back through
 * A. Returns that third connection; B's takeover, meant for the first, is still held.
 */
async function bounceWhileNewsIsHeld(raw: Redis, a: ClusterRelay, b: ClusterRelay, first: RelayTestClient): Promise<RelayTestClient> {
  await raw.call('CLIENT', 'PAUSE', '600', 'WRITE');
  first.close();
  await waitFor(() => a.logs.find((l) => l.event === 'connection-close' && l.code === 1006), 'A to let x go');
  const second = await b.connect();
  expect(await second.join('r', { peerId: 'x', resumeKey: KEY })).toMatchObject({ type: 'joined' });
  second.close();
  await waitFor(() => b.logs.find((l) => l.event === 'connection-close' && l.code === 1006), 'B to let x go');
  const third = await a.connect();
  expect(await third.join('r', { peerId: 'x', resumeKey: KEY })).toMatchObject({ type: 'joined' });
  return third;
}

/** After B's late takeover reached A: the third connection kept x, and carol on B reaches it. */
async function expectThirdKept(a: ClusterRelay, b: ClusterRelay, third: RelayTestClient, carol: RelayTestClient): Promise<void> {
  await barrier(a, b);
  expect(third.received.filter((m) => m.type === 'error')).toEqual([]);
  carol.send({ type: 'signal', room: 'r', to: 'x', data: 'still you?' });
  expect(await third.nextOf('signal')).toMatchObject({ from: 'carol', data: 'still you?' });
}

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

      // A announced her departure to dave: he must hear she is back. carol, on B, which took
      // her over before A's departure came, hears nothing either way.
      await dave.next((m) => m.type === 'peer-joined' && m.peerId === 'alice', 10_000);
      await barrier(a, b);
      expect(announcements(carol.received.slice(before.carol))).toEqual([]);
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

  it('an emptied Redis does not make an instance announce the others\' members as left', async () => {
    const redis = await cluster.redis();
    // A beats 5 times as often as B: after the flush A looks before B has registered again.
    const a = await cluster.relay(redis, {}, { instanceId: 'inst-a', heartbeatMs: 200, instanceTtlMs: 3000 });
    const b = await cluster.relay(redis, {}, { instanceId: 'inst-b', heartbeatMs: 1000, instanceTtlMs: 3000 });
    const raw = new Redis(redis.url);
    try {
      const { alice, bob } = await pairAcross(a, b);
      const synced = (r: typeof a): number => r.clusterLogs.filter((l) => l.event === 'cluster-synced').length;
      const before = { a: synced(a), b: synced(b) };
      // Right after B's heartbeat (its key just refreshed), empty Redis.
      await waitFor(async () => (await raw.pttl('meshparty:i:inst-b')) > 2900, "B's heartbeat", 10_000, 5);
      const heard = { alice: alice.received.length, bob: bob.received.length };
      await raw.flushall();
      // Each notices its heartbeat key gone at its next beat and registers again.
      await waitFor(() => synced(a) > before.a && synced(b) > before.b, 'both to register again', 15_000);
      await waitFor(async () => (await raw.hlen('meshparty:m:inst-a')) === 1 && (await raw.hlen('meshparty:m:inst-b')) === 1, 'both member lists back');
      // Nobody left: the two still reach each other, and neither heard otherwise.
      alice.send({ type: 'signal', room: 'r', to: 'bob', data: 'still here' });
      expect(await bob.nextOf('signal')).toMatchObject({ from: 'alice', data: 'still here' });
      bob.send({ type: 'signal', room: 'r', to: 'alice', data: 'me too' });
      expect(await alice.nextOf('signal')).toMatchObject({ from: 'bob', data: 'me too' });
      expect(announcements(alice.received.slice(heard.alice))).toEqual([]);
      expect(announcements(bob.received.slice(heard.bob))).toEqual([]);
      expect(a.clusterLogs.filter((l) => l.event === 'cluster-instance-gone')).toEqual([]);
    } finally {
      raw.disconnect();
    }
  });

  it('a peer leaving a room its instance thinks empty is announced to a joiner elsewhere that listed it', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const raw = new Redis(redis.url);
    try {
      const xavier = await a.connect();
      await xavier.join('r', { peerId: 'xavier' });
      await waitFor(() => b.relay.metrics().rooms === 1, 'B to know of xavier');
      // B's news of zoe is held in Redis: to A the room is xavier alone when he leaves.
      await raw.call('CLIENT', 'PAUSE', '600', 'WRITE');
      const zoe = await b.connect();
      expect(await zoe.join('r', { peerId: 'zoe' })).toMatchObject({ type: 'joined', peers: ['xavier'] });
      xavier.send({ type: 'leave', room: 'r' });
      xavier.send({ type: 'ping' });
      await xavier.nextOf('pong');
      // zoe's join reply listed xavier: she must hear he left.
      expect(await zoe.next((m) => m.type === 'peer-left' && m.peerId === 'xavier', 10_000)).toMatchObject({ room: 'r' });
    } finally {
      raw.disconnect();
    }
  });

  it('a member added while its instance syncs is not undone by the sync', async () => {
    const redis = await cluster.redis();
    const many = { maxRoomsPerConnection: 100_000, messagesPerSecond: 1e6, messageBurst: 1e6, joinsPerSecond: 1e6, joinBurst: 1e6 };
    const [a, b] = [await cluster.relay(redis, many), await cluster.relay(redis, many)];
    const raw = new Redis(redis.url);
    try {
      const c = await b.connect();
      const syncs = (): number => b.clusterLogs.filter((l) => l.event === 'cluster-synced').length;
      let n = 0;
      for (let round = 0; round < 10; round++) {
        // Joins keep coming (a room each, never touched again) while B syncs after a flush;
        // its sync lists some thousand rooms, so registering them takes a while.
        const flood = setInterval(() => {
          for (let k = 0; k < 20; k++) c.send({ type: 'join', v: 1, room: `f${n++}` });
        }, 1);
        try {
          const before = syncs();
          await new Promise((r) => setTimeout(r, 20));
          await raw.flushall();
          await waitFor(() => syncs() > before, 'B to sync again');
          await new Promise((r) => setTimeout(r, 20));
        } finally {
          clearInterval(flood);
        }
        c.send({ type: 'ping' });
        await c.nextOf('pong', undefined, 10_000);
        // A must know every room B has.
        await waitFor(() => a.relay.metrics().rooms === b.relay.metrics().rooms, `A to know B's ${b.relay.metrics().rooms} rooms (has ${a.relay.metrics().rooms})`, 5000);
      }
      expect(b.relay.metrics().rooms).toBe(n);
    } finally {
      raw.disconnect();
    }
  }, 60_000);

  it('a client back through another instance before its first join was known there stays in the room for everyone', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const raw = new Redis(redis.url);
    try {
      const dave = await a.connect();
      await dave.join('r', { peerId: 'dave' });
      const carol = await b.connect();
      await joinKnowing(carol, 'r', ['dave'], { peerId: 'carol' });
      await dave.next((m) => m.type === 'peer-joined' && m.peerId === 'carol');
      // x joins through A and, its connection lost at once, comes back through B, which has
      // not heard of it yet (A's news held in Redis): both let it in.
      await raw.call('CLIENT', 'PAUSE', '600', 'WRITE');
      const first = await a.connect();
      expect(await first.join('r', { peerId: 'x', resumeKey: KEY })).toMatchObject({ type: 'joined' });
      first.close();
      await waitFor(() => a.logs.find((l) => l.event === 'connection-close' && l.code === 1006), 'A to let x go');
      const back = await b.connect();
      expect(await back.join('r', { peerId: 'x', resumeKey: KEY })).toMatchObject({ type: 'joined' });
      await barrier(a, b);
      // Whatever each heard on the way, x is in the room for both, and reachable from A.
      const view = (c: typeof dave): string[] => {
        const frames = c.received;
        const joinedAt = frames.findIndex((m) => m.type === 'joined');
        const seen = new Set(frames[joinedAt]!.peers as string[]);
        for (const m of frames.slice(joinedAt + 1)) {
          if (m.room !== 'r') continue;
          if (m.type === 'peer-joined') seen.add(String(m.peerId));
          if (m.type === 'peer-left') seen.delete(String(m.peerId));
        }
        return [...seen].sort();
      };
      expect(view(carol)).toEqual(['dave', 'x']);
      expect(view(dave)).toEqual(['carol', 'x']);
      dave.send({ type: 'signal', room: 'r', to: 'x', data: 'from-a' });
      expect(await back.nextOf('signal')).toMatchObject({ from: 'dave', data: 'from-a' });
    } finally {
      raw.disconnect();
    }
  });

  it('a late takeover meant for a client\'s earlier connection spares the one it came back with', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const raw = new Redis(redis.url);
    try {
      const carol = await b.connect();
      await carol.join('r', { peerId: 'carol' });
      const first = await a.connect();
      expect(await first.join('r', { peerId: 'x', resumeKey: KEY })).toMatchObject({ type: 'joined' });
      await barrier(a, b);
      const third = await bounceWhileNewsIsHeld(raw, a, b, first);
      // B's takeover, meant for the first connection, reaches A now: the third stays.
      await expectThirdKept(a, b, third, carol);
      const fresh = await b.connect();
      expect((await fresh.join('r')).peers.sort()).toEqual(['carol', 'x']);
    } finally {
      raw.disconnect();
    }
  });

  it('a late takeover of a member its taker read from Redis spares the membership the client came back with', async () => {
    const redis = await cluster.redis();
    const a = await cluster.relay(redis, {}, { instanceId: 'inst-a' });
    const raw = new Redis(redis.url);
    try {
      const first = await a.connect();
      expect(await first.join('r', { peerId: 'x', resumeKey: KEY })).toMatchObject({ type: 'joined' });
      // B starts now: it knows x from A's member list in Redis, not from A's news of the join.
      const b = await cluster.relay(redis);
      const carol = await b.connect();
      await joinKnowing(carol, 'r', ['x'], { peerId: 'carol' });
      await barrier(a, b);
      const third = await bounceWhileNewsIsHeld(raw, a, b, first);
      // B's takeover must name the membership it read, or A takes it for the third's.
      await expectThirdKept(a, b, third, carol);
      const fresh = await (await b.connect()).join('r');
      expect(fresh.peers.sort()).toEqual(['carol', 'x']);
      // And A's member list in Redis, which B's takeover struck x from, has x again: an
      // instance reading it (starting now) knows x is there.
      await waitFor(async () => (await raw.hexists('meshparty:m:inst-a', JSON.stringify(['r', 'r', 'x']))) === 1, "x back on A's list", 5000);
      const late = await (await cluster.relay(redis)).connect();
      expect((await late.join('r')).peers.sort()).toEqual(['carol', fresh.peerId, 'x'].sort());
    } finally {
      raw.disconnect();
    }
  });
});
