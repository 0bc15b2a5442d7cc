/**
 * What a provider lets go of. Its Awareness renews presence on a timer (y-protocols'
 * setInterval), which holds the doc, the provider and through it the room: whatever
 * stops the provider must stop that timer, or a tab that leaves rooms keeps every one.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork, type MemoryNetwork } from '../../src/mesh/memory-network.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { waitFor } from '../support/net.js';
import { stillAlive } from '../support/collectable.js';

const quiet = () => {};

/** A peer opens a document with `stay`, types, and leaves the room without destroying its provider; only weak references come back. */
async function visitAndLeave(net: MemoryNetwork, id: string, stayDoc: Y.Doc): Promise<Array<WeakRef<object>>> {
  const room = net.join('r', { peerId: id });
  const doc = new Y.Doc();
  const provider = createYjsProvider(room, doc, { name: 'd', log: quiet });
  provider.awareness.setLocalStateField('user', { name: id });
  doc.getText('t').insert(0, id);
  await waitFor(() => stayDoc.getText('t').toString().includes(id), `${id}'s edit arrived`);
  await room.leave();
  return [new WeakRef(room), new WeakRef(doc), new WeakRef(provider), new WeakRef(provider.awareness)];
}

describe('yjs provider release', () => {
  it('stops with its room: a room left without provider.destroy() is not kept alive by presence', async () => {
    const net = createMemoryNetwork({ mesh: { logger: silentLogger() } });
    const stay = net.join('r', { peerId: 'stay' });
    const stayDoc = new Y.Doc();
    const stayProvider = createYjsProvider(stay, stayDoc, { name: 'd', log: quiet });
    const refs: Array<WeakRef<object>> = [];
    for (let i = 0; i < 5; i++) refs.push(...(await visitAndLeave(net, `v${i}`, stayDoc)));
    await waitFor(() => stay.peers.size === 0, 'every visitor gone');
    // Without the fix all 20 stay (room, doc, provider, awareness of each visitor).
    expect(await stillAlive(refs)).toBe(0);
    stayProvider.destroy();
    await stay.leave();
  });

  it('is destroyed when its room closes: presence removed, listeners dropped', async () => {
    const net = createMemoryNetwork({ mesh: { logger: silentLogger() } });
    const room = net.join('r', { peerId: 'a' });
    const doc = new Y.Doc();
    const provider = createYjsProvider(room, doc, { name: 'd', log: quiet });
    provider.awareness.setLocalStateField('user', { name: 'a' });
    const statuses: string[] = [];
    provider.on('status', ({ status }) => statuses.push(status));
    await room.leave();
    expect(statuses.at(-1)).toBe('closed'); // still told, before it stops
    expect(provider.awareness.getLocalState()).toBe(null);
    doc.getText('t').insert(0, 'after'); // no provider listening: nothing to send, nothing throws
  });

  it('stops at once when made on a room already closed (no status change would ever stop it)', async () => {
    const net = createMemoryNetwork({ mesh: { logger: silentLogger() } });
    const room = net.join('r', { peerId: 'late' });
    await room.leave(); // e.g. closed for good (a wrong password) before the app opened its document
    const made = () => {
      const doc = new Y.Doc();
      const provider = createYjsProvider(room, doc, { name: 'd', log: quiet });
      return [new WeakRef(doc), new WeakRef(provider), new WeakRef(provider.awareness)];
    };
    // Without the check its Awareness timer keeps all three (and the room) for good.
    expect(await stillAlive(made())).toBe(0);
  });

  it('forgets the presence clients of a peer that stays while it switches documents', async () => {
    const net = createMemoryNetwork({ mesh: { logger: silentLogger() } });
    const stay = net.join('r', { peerId: 'stay' });
    const stayProvider = createYjsProvider(stay, new Y.Doc(), { name: 'd', log: quiet });
    const other = net.join('r', { peerId: 'other' });
    for (let i = 0; i < 10; i++) {
      // Each switch back to 'd' is a new Y.Doc, so a new awareness client id.
      const p = createYjsProvider(other, new Y.Doc(), { name: 'd', log: quiet });
      p.awareness.setLocalStateField('user', { name: `other ${i}` });
      await waitFor(() => stayProvider.awareness.getStates().has(p.doc.clientID), 'presence arrived');
      p.destroy();
      await waitFor(() => !stayProvider.awareness.getStates().has(p.doc.clientID), 'presence removed');
    }
    // Only our own client is left; with the fix reverted, 11 (one per switch kept for good).
    expect(stayProvider.awareness.meta.size).toBe(1);
    stayProvider.destroy();
    await Promise.all([stay.leave(), other.leave()]);
  });
});
