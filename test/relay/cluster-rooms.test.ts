/**
 * Relay instances sharing rooms through a real redis-server: membership, announcements,
 * signals and y-webrtc topics cross instances, per-sender order holds, room caps count
 * every instance, and an instance that leaves has its peers announced as left elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { clusterStoppedAfterEach, joinKnowing } from './cluster-support.js';

const cluster = clusterStoppedAfterEach();

describe('relay cluster: rooms across instances', () => {
  it('lists, announces and delivers across instances, in per-sender order', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const alice = await a.connect();
    const al = await alice.join('r', { peerId: 'alice' });
    expect(al).toMatchObject({ type: 'joined', peers: [] });
    const bob = await b.connect();
    // Bob, on B, learns of alice, who is on A (from his join reply, or announced if B had
    // not heard of her yet); A tells alice bob joined.
    expect(await joinKnowing(bob, 'r', ['alice'], { peerId: 'bob' })).toMatchObject({ peers: ['alice'] });
    expect(await alice.nextOf('peer-joined')).toMatchObject({ room: 'r', peerId: 'bob' });
    // Signals both ways, stamped with the sender; 50 in a row arrive in order.
    for (let i = 0; i < 50; i++) alice.send({ type: 'signal', room: 'r', to: 'bob', data: { i } });
    for (let i = 0; i < 50; i++) expect(await bob.nextOf('signal')).toMatchObject({ from: 'alice', data: { i } });
    bob.send({ type: 'signal', room: 'r', to: 'alice', data: 'back' });
    expect(await alice.nextOf('signal')).toMatchObject({ from: 'bob', data: 'back' });
    // A third on A hears of bob's departure from B, and the lists agree everywhere.
    const carol = await a.connect();
    expect((await joinKnowing(carol, 'r', ['alice', 'bob'], { peerId: 'carol' })).peers).toEqual(['alice', 'bob']);
    await bob.nextOf('peer-joined');
    bob.send({ type: 'leave', room: 'r' });
    expect(await alice.nextOf('peer-left')).toMatchObject({ peerId: 'bob' });
    expect(await carol.nextOf('peer-left')).toMatchObject({ peerId: 'bob' });
    const dave = await b.connect();
    expect((await dave.join('r')).peers.sort()).toEqual(['alice', 'carol']); // bob told us carol joined
    // A signal to a peer known nowhere is refused as on one relay.
    dave.send({ type: 'signal', room: 'r', to: 'bob', data: 'x' });
    expect(await dave.nextOf('error', 'unknown-peer')).toBeTruthy();
  });

  it('two peers joining at once on two instances hear of each other', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const [x, y] = [await a.connect(), await b.connect()];
    for (let round = 0; round < 5; round++) {
      const room = `race-${round}`;
      // Both joins leave before either instance has heard of the other's.
      const [jx, jy] = await Promise.all([joinKnowing(x, room, [`y${round}`], { peerId: `x${round}` }), joinKnowing(y, room, [`x${round}`], { peerId: `y${round}` })]);
      expect([jx.peers, jy.peers]).toEqual([[`y${round}`], [`x${round}`]]);
    }
  });

  it('counts every instance against the room cap', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis, { maxPeersPerRoom: 2 }), await cluster.relay(redis, { maxPeersPerRoom: 2 })];
    const p1 = await a.connect();
    await p1.join('cap');
    const p2 = await b.connect();
    await joinKnowing(p2, 'cap', [p1.received.find((m) => m.type === 'joined')!.peerId as string]);
    await p1.nextOf('peer-joined');
    const p3 = await a.connect();
    expect(await p3.join('cap')).toMatchObject({ type: 'error', code: 'room-full' });
  });

  it('publishes y-webrtc topics to subscribers on every instance', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const ya = await a.connect();
    const yb = await b.connect();
    ya.send({ type: 'subscribe', topics: ['doc'] });
    yb.send({ type: 'subscribe', topics: ['doc'] });
    // Subscriptions are known everywhere once both show in the `clients` count.
    await waitFor(async () => {
      ya.send({ type: 'publish', topic: 'doc', data: 'probe' });
      const m = await ya.nextOf('publish');
      return m.clients === 2;
    }, 'both subscriptions seen by A');
    ya.send({ type: 'publish', topic: 'doc', data: { from: 'a' } });
    expect(await yb.next((m) => m.type === 'publish' && (m.data as { from?: string }).from === 'a')).toMatchObject({ topic: 'doc', clients: 2 });
    yb.send({ type: 'publish', topic: 'doc', data: { from: 'b' } });
    expect(await ya.next((m) => m.type === 'publish' && (m.data as { from?: string }).from === 'b')).toMatchObject({ topic: 'doc' });
  });

  it('a relay that closes has its peers announced as left by the others at once', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const alice = await a.connect();
    await alice.join('r', { peerId: 'alice' });
    const bob = await b.connect();
    await joinKnowing(bob, 'r', ['alice'], { peerId: 'bob' });
    await alice.nextOf('peer-joined');
    await a.stop();
    expect(await bob.nextOf('peer-left', undefined, 3000)).toMatchObject({ room: 'r', peerId: 'alice' });
    const carol = await b.connect();
    expect((await carol.join('r')).peers).toEqual(['bob']);
  });
});
