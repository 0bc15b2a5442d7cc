/**
 * Presence (y-protocols awareness) across the ways a peer appears: a connection that
 * drops and comes back under the same peer id, and a document one peer opens after the
 * other. In both, the peer's presence must show at once, not at y-protocols' 15 s renewal.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { waitFor } from '../support/net.js';
import { FakeHub } from './fake-room.js';

const quiet = () => {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('yjs presence', () => {
  it('comes back when a peer leaves and rejoins under the same id (its clock unchanged)', async () => {
    const hub = new FakeHub();
    const a = hub.join('a');
    const b = hub.join('b');
    const docA = new Y.Doc();
    const docB = new Y.Doc();
    const pa = createYjsProvider(a, docA, { name: 'd', log: quiet });
    const pb = createYjsProvider(b, docB, { name: 'd', log: quiet });
    pa.awareness.setLocalStateField('user', { name: 'Ada' });
    pb.awareness.setLocalStateField('user', { name: 'Bea' });
    await waitFor(() => pa.awareness.getStates().size === 2 && pb.awareness.getStates().size === 2, 'presence both ways');
    a.removePeer('b');
    b.removePeer('a');
    expect(pa.awareness.getStates().has(docB.clientID)).toBe(false);
    expect(pb.awareness.getStates().has(docA.clientID)).toBe(false);
    // Back under the same ids; neither side changed its presence, so each re-sends the
    // state with the clock the other saw last time.
    a.addPeer('b');
    b.addPeer('a');
    await waitFor(() => pa.synced && pb.synced && pa.idle && pb.idle, 'resynced');
    await waitFor(() => pb.awareness.getStates().has(docA.clientID) && pa.awareness.getStates().has(docB.clientID), 'presence back', 2000);
    expect(pb.awareness.getStates().get(docA.clientID)).toEqual({ user: { name: 'Ada' } });
    expect(pa.awareness.getStates().get(docB.clientID)).toEqual({ user: { name: 'Bea' } });
    pa.destroy();
    pb.destroy();
  });

  it('comes back after a partition of the mesh heals', async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 7, clock, latencyMs: 5, mesh: { logger: silentLogger() } });
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    await net.advance(2000);
    const docA = new Y.Doc();
    const docB = new Y.Doc();
    const pa = createYjsProvider(a, docA, { name: 'd', log: quiet, clock });
    const pb = createYjsProvider(b, docB, { name: 'd', log: quiet, clock });
    pa.awareness.setLocalStateField('user', { name: 'Ada' });
    pb.awareness.setLocalStateField('user', { name: 'Bea' });
    await net.advance(500);
    expect(pb.awareness.getStates().get(docA.clientID)).toEqual({ user: { name: 'Ada' } });
    net.partition([['a'], ['b']]);
    await net.advance(5000);
    expect(a.peers.has('b')).toBe(false);
    expect(pb.awareness.getStates().has(docA.clientID)).toBe(false);
    net.heal();
    for (let t = 0; t < 60 && !(a.peers.has('b') && pa.synced && pb.synced); t++) await net.advance(500);
    await net.advance(1000);
    expect(pa.synced && pb.synced).toBe(true);
    expect(pb.awareness.getStates().get(docA.clientID)).toEqual({ user: { name: 'Ada' } });
    expect(pa.awareness.getStates().get(docB.clientID)).toEqual({ user: { name: 'Bea' } });
    pa.destroy();
    pb.destroy();
    await Promise.all([a.leave(), b.leave()]);
  });

  it('reaches a peer that opens the document later than the room', async () => {
    const hub = new FakeHub();
    const a = hub.join('a');
    const b = hub.join('b');
    const docA = new Y.Doc();
    docA.getText('t').insert(0, 'hello');
    const pa = createYjsProvider(a, docA, { name: 'd', log: quiet });
    pa.awareness.setLocalStateField('user', { name: 'Ada' });
    await sleep(50); // a's hello and presence reach b, which has no 'yjs:d' channel yet: dropped
    const docB = new Y.Doc();
    const pb = createYjsProvider(b, docB, { name: 'd', log: quiet });
    pb.awareness.setLocalStateField('user', { name: 'Bea' });
    await waitFor(() => pa.synced && pb.synced && pa.idle && pb.idle, 'both synced');
    expect(docB.getText('t').toString()).toBe('hello');
    await waitFor(() => pb.awareness.getStates().has(docA.clientID), 'b sees a', 2000);
    expect(pb.awareness.getStates().get(docA.clientID)).toEqual({ user: { name: 'Ada' } });
    expect(pa.awareness.getStates().get(docB.clientID)).toEqual({ user: { name: 'Bea' } });
    pa.destroy();
    pb.destroy();
  });

  it('is removed at a peer whose queue was full when the provider was destroyed (the goodbye is retried)', async () => {
    const clock = new ManualClock();
    // A small queue and a slow link, so a big message on another channel fills the queue.
    const net = createMemoryNetwork({ seed: 3, clock, latencyMs: 20, lowWaterMark: 4096, mesh: { logger: silentLogger(), maxQueuedBytes: 64 * 1024, highWaterMarkBytes: 8192 } });
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    await net.advance(2000);
    const docA = new Y.Doc();
    const pa = createYjsProvider(a, docA, { name: 'd', log: quiet, clock });
    const pb = createYjsProvider(b, new Y.Doc(), { name: 'd', log: quiet, clock });
    pa.awareness.setLocalStateField('user', { name: 'Ada' });
    await net.advance(500);
    expect(pb.awareness.getStates().get(docA.clientID)).toEqual({ user: { name: 'Ada' } });
    const bulk = a.channel('bulk').send('b', new Uint8Array(512 * 1024));
    pa.destroy(); // its goodbye is refused (queue-full) for now
    await net.advance(5000);
    await bulk;
    // Without a retry the stale cursor stayed until a left the room, and a provider a
    // opens again on this doc (its clock starting over) was hidden behind the old clock.
    expect(pb.awareness.getStates().has(docA.clientID)).toBe(false);
    pb.destroy();
    await Promise.all([a.leave(), b.leave()]);
  });
});
