/**
 * Bad input on the real mesh (in-memory network): a peer that sends malformed and
 * oversized Yjs messages has each one dropped whole with a reason, and after the third
 * the provider cuts it off through `room.disconnect`; the document and the other
 * peers are untouched.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { YjsTag, encodeAwareness, encodeUpdate } from '../../src/yjs/protocol.js';

describe('yjs bad input on the mesh', () => {
  it('drops malformed and oversized messages whole, then disconnects the sender for good', async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 3, clock, mesh: { logger: silentLogger() } });
    const [good, friend, evil] = ['good', 'friend', 'evil'].map((peerId) => net.join('r', { peerId }));
    const doc = new Y.Doc();
    const friendDoc = new Y.Doc();
    doc.getText('t').insert(0, 'intact');
    const dropped: string[] = [];
    const p = createYjsProvider(good!, doc, { name: 'd', clock, log: () => {}, limits: { maxUpdateBytes: 4096 } });
    const pf = createYjsProvider(friend!, friendDoc, { name: 'd', clock, log: () => {} });
    p.on('dropped', ({ from, reason }) => dropped.push(`${from}: ${reason}`));
    const left: string[] = [];
    good!.on('peer-left', ({ id }) => left.push(id));
    await net.advance(2000);
    expect(good!.peers.has('evil')).toBe(true);

    const ch = evil!.channel('yjs:d');
    const other = new Y.Doc();
    other.getText('t').insert(0, 'injected');
    const update = Y.encodeStateAsUpdate(other);
    await ch.send('good', encodeUpdate(YjsTag.Update, update.slice(0, update.length - 2))); // truncated
    await ch.send('good', encodeUpdate(YjsTag.SyncStep2, new Uint8Array(5000))); // oversized
    await net.advance(100);
    expect(dropped).toHaveLength(2);
    expect(left).toEqual([]);
    await ch.send('good', encodeAwareness(new TextEncoder().encode('{not json'))); // third strike
    await net.advance(100);
    expect(dropped).toHaveLength(3);
    expect(dropped[1]).toMatch(/evil: update of 5000 bytes exceeds 4096/);
    expect(left).toEqual(['evil']);
    // It stays cut off (no reconnect), while the friend still syncs.
    await net.advance(10_000);
    expect(good!.peers.has('evil')).toBe(false);
    friendDoc.getText('t').insert(0, '+');
    await net.advance(500);
    expect(doc.getText('t').toString()).toBe('+intact');
    expect(friendDoc.getText('t').toString()).toBe('+intact');
    p.destroy();
    pf.destroy();
    await Promise.all([good!, friend!, evil!].map((r) => r.leave()));
  });
});

describe('yjs bad input counts with the peer\'s bad input on the mesh', () => {
  it('each dropped message is a strike of the room (room.strike): the mesh cuts the sender off at its own maxStrikes', async () => {
    // The provider alone would wait for 100; the mesh, counting every layer, cuts at 2.
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 4, clock, mesh: { logger: silentLogger(), maxStrikes: 2 } });
    const [good, evil] = ['good', 'evil'].map((peerId) => net.join('r', { peerId }));
    const p = createYjsProvider(good!, new Y.Doc(), { name: 'd', clock, log: () => {}, maxStrikes: 100 });
    const left: string[] = [];
    good!.on('peer-left', ({ id, reason }) => left.push(`${id}:${reason}`));
    await net.advance(2000);
    const ch = evil!.channel('yjs:d');
    await ch.send('good', encodeAwareness(new TextEncoder().encode('{not json')));
    await net.advance(100);
    expect(left).toEqual([]);
    await ch.send('good', encodeAwareness(new TextEncoder().encode('{not json either')));
    await net.advance(100);
    expect(left).toEqual(['evil:misbehaving']);
    p.destroy();
    await Promise.all([good!, evil!].map((r) => r.leave()));
  });
});

describe('yjs provider limits', () => {
  it('a limit given as undefined keeps its default, and a bad one is refused with bad-argument, leaving nothing set up', async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 3, clock, mesh: { logger: silentLogger() } });
    const [good, evil] = ['good', 'evil'].map((peerId) => net.join('r', { peerId }));
    for (const bad of [{ maxUpdateBytes: NaN }, { maxAwarenessBytes: 0 }, { maxPresenceClients: 2.5 }, { maxUpdateBytes: '1' as unknown as number }]) {
      expect(() => createYjsProvider(good!, new Y.Doc(), { name: 'd', clock, log: () => {}, limits: bad })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    }
    // Nothing was left behind: the name is free for a provider with good limits.
    const dropped: string[] = [];
    const p = createYjsProvider(good!, new Y.Doc(), { name: 'd', clock, log: () => {}, limits: { maxAwarenessBytes: undefined } });
    p.on('dropped', ({ reason }) => dropped.push(reason));
    await net.advance(2000);
    // Presence over the default 1 MiB: with the limit switched off by `undefined`, it was taken.
    await evil!.channel('yjs:d').send('good', encodeAwareness(new Uint8Array(1024 * 1024 + 1)));
    await net.advance(100);
    expect(dropped).toEqual([expect.stringMatching(/awareness update of 1048577 bytes exceeds 1048576/)]);
    p.destroy();
    await Promise.all([good!, evil!].map((r) => r.leave()));
  });
});
