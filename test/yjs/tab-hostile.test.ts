/**
 * What a buggy or hostile tab of the same origin can post on tab sync's channel: messages
 * well formed as the document channel's but that no tab sends to tabs, or presence a tab
 * may not give, are dropped with a reason, and a message dropped does not make its
 * sender a tab this one counts (tab-sync.test.ts covers malformed envelopes and bytes).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { encodeAwareness, encodeUpdate, YjsTag } from '../../src/yjs/protocol.js';
import type { TabSync } from '../../src/yjs/tab-sync.js';
import { waitFor } from '../support/net.js';
import { tabTestbed } from './support/tab-fakes.js';

const { freshName, tab, closeLater } = tabTestbed('tab-hostile-test');

/** A y-protocols awareness update giving each of `clients` the state `{ user: { name } }`. */
function presenceFor(clients: number[], name: string): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, clients.length);
  for (const client of clients) {
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, 1);
    encoding.writeVarString(e, JSON.stringify({ user: { name } }));
  }
  return encoding.toUint8Array(e);
}

/** An update inserting `text` into the text 't'. */
function insert(text: string): Uint8Array {
  const d = new Y.Doc();
  d.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(d);
}

/**
 * Posts `messages` (data, from) on `name` as tabs would, then an update from the tab
 * 'witness'; resolves once `t` has applied the witness's update, so everything posted
 * before it was heard (one sender's order is kept, and these share one channel).
 */
async function postThenWitness(name: string, t: TabSync, messages: Array<[Uint8Array, string]>) {
  const ch = new BroadcastChannel(`meshparty-tabs:${name}`);
  closeLater(() => ch.close());
  for (const [data, from] of messages) ch.postMessage({ t: 'meshparty-tab/1', from, data });
  ch.postMessage({ t: 'meshparty-tab/1', from: 'witness', data: encodeUpdate(YjsTag.Update, insert('witnessed')) });
  await waitFor(() => t.doc.getText('t').toString().includes('witnessed'), 'the witness\'s update applied');
}

describe('tab sync: what a buggy or hostile tab sends', () => {
  it('a forwarded update or presence (peers\' messages, never a tab\'s) is dropped with a reason, and applies nothing', async () => {
    const name = freshName();
    const t = tab(new Y.Doc(), name);
    const dropped: string[] = [];
    t.on('dropped', ({ reason }) => dropped.push(reason));

    await postThenWitness(name, t, [
      [encodeUpdate(YjsTag.ForwardedUpdate, insert('forwarded')), 'relay-ish'],
      [encodeAwareness(presenceFor([4242], 'Mallory'), true), 'relay-ish'],
    ]);
    expect(dropped).toEqual(['a forwarded message (tag 4) from a tab', 'a forwarded message (tag 5) from a tab']);
    expect(t.doc.getText('t').toString()).toBe('witnessed');
    expect(t.awareness.getStates().has(4242)).toBe(false);
    expect(t.tabs).toBe(1);
  });

  it('a tab whose only messages were dropped is not counted', async () => {
    const name = freshName();
    const t = tab(new Y.Doc(), name, { limits: { maxUpdateBytes: 1 << 20, maxPresenceClients: 2 } });
    const dropped: string[] = [];
    const counts: number[] = [];
    t.on('dropped', ({ reason }) => dropped.push(reason));
    t.on('tabs', ({ count }) => counts.push(count));

    await postThenWitness(name, t, [
      [encodeAwareness(presenceFor([t.awareness.clientID], 'Eve')), 'eve'],
      [encodeAwareness(presenceFor([1, 2, 3], 'Mallory')), 'mallory'],
      [encodeUpdate(YjsTag.ForwardedUpdate, insert('forwarded')), 'trudy'],
    ]);
    expect(dropped).toEqual(['presence for this tab\'s own client', 'presence for 3 clients, over 2 for one tab', 'a forwarded message (tag 4) from a tab']);
    expect(t.tabs).toBe(1);
    expect(counts).toEqual([1]);
    expect([...t.awareness.getStates().keys()]).toEqual([t.awareness.clientID]);
  });
});
