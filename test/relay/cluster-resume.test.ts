/**
 * Resume keys shared by relay instances through a real redis-server: a client with a
 * fixed peer id takes it back on ANOTHER instance, whether its old connection is still
 * open there, was lost, or its instance left; anyone else is refused meanwhile.
 */
import { describe, expect, it } from 'vitest';
import type { RelayTestClient } from './client.js';
import { clusterStoppedAfterEach, joinKnowing, type ClusterRelay } from './cluster-support.js';

const cluster = clusterStoppedAfterEach();
const KEY = 'owner-key-0123456789abc';
const OTHER = 'squatter-key-0123456789';

/** alice joins on `a` with KEY; a watcher joins on `b` and is told of her. */
async function aliceAndWatcher(a: ClusterRelay, b: ClusterRelay): Promise<{ alice: RelayTestClient; watcher: RelayTestClient; watcherId: string }> {
  const alice = await a.connect();
  expect(await alice.join('r', { peerId: 'alice', resumeKey: KEY })).toMatchObject({ type: 'joined' });
  const watcher = await b.connect();
  const w = await joinKnowing(watcher, 'r', ['alice']);
  expect(w.peers).toEqual(['alice']);
  await alice.nextOf('peer-joined');
  return { alice, watcher, watcherId: w.peerId };
}

async function joinReply(r: ClusterRelay, extra: Record<string, unknown>): Promise<string> {
  const c = await r.connect();
  const m = await c.join('r', { peerId: 'alice', ...extra });
  return m.type === 'joined' ? 'joined' : String(m.code);
}

describe('relay cluster: resume keys across instances', () => {
  it('takes over a live connection on another instance; the room hears nothing', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const { alice, watcher, watcherId } = await aliceAndWatcher(a, b);
    expect(await joinReply(b, { resumeKey: OTHER })).toBe('peer-id-taken');
    const again = await b.connect();
    expect(await again.join('r', { peerId: 'alice', resumeKey: KEY })).toMatchObject({ type: 'joined', peers: [watcherId] });
    // The old connection, on A, is told and closed, as on one relay.
    expect(await alice.nextOf('error', 'peer-id-resumed')).toMatchObject({ room: 'r' });
    expect(await alice.closed).toEqual({ code: 1000, reason: 'peer-id-resumed' });
    // The first thing the watcher hears after its join is alice's signal: no peer-left/joined.
    again.send({ type: 'signal', room: 'r', to: watcherId, data: 'from-new' });
    expect(await watcher.next()).toMatchObject({ type: 'signal', from: 'alice', data: 'from-new' });
    // A's mirror follows: a newcomer there sees alice (now on B) and reaches her.
    const carol = await a.connect();
    expect((await carol.join('r')).peers.sort()).toEqual(['alice', watcherId].sort());
    carol.send({ type: 'signal', room: 'r', to: 'alice', data: 'hi' });
    expect(await again.nextOf('signal')).toMatchObject({ data: 'hi' });
  });

  it('keeps a lost connection\'s id for its key on every instance', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const { alice, watcher } = await aliceAndWatcher(a, b);
    alice.close(); // a lost connection (1006): the id stays reserved for the key
    expect(await watcher.nextOf('peer-left')).toMatchObject({ peerId: 'alice' });
    // The peer-left came after A told the others of the key: B knows it.
    expect(await joinReply(b, { resumeKey: OTHER })).toBe('peer-id-taken');
    expect(await joinReply(b, {})).toBe('peer-id-taken');
    expect(await joinReply(b, { resumeKey: KEY })).toBe('joined');
    expect(await watcher.nextOf('peer-joined')).toMatchObject({ peerId: 'alice' });
  });

  it('an instance that leaves hands its peers\' keys to the others', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const { watcher } = await aliceAndWatcher(a, b);
    await a.stop();
    expect(await watcher.nextOf('peer-left')).toMatchObject({ peerId: 'alice' });
    expect(await joinReply(b, { resumeKey: OTHER })).toBe('peer-id-taken');
    expect(await joinReply(b, { resumeKey: KEY })).toBe('joined');
    // An instance started after the fact reads the remembered keys from Redis.
    const c = await cluster.relay(redis);
    const late = await c.connect();
    expect((await late.join('r', { peerId: 'alice', resumeKey: OTHER })).code).toBe('peer-id-taken');
  });
});
