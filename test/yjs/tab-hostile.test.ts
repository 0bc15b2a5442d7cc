/**
 * What a buggy or hostile tab of the same origin can post on tab sync's channel: messages
 * well formed as the document channel's but that no tab sends to tabs, or presence a tab
 * may not give, are dropped with a reason, and a message dropped does not make its
 * sender a tab this one counts; and a tab that goes and comes back under its id cannot
 * keep the others saying hello (tab-sync.test.ts covers malformed envelopes and bytes).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { decodeYjsMessage, encodeAwareness, encodeSyncStep1, encodeUpdate, Step1Kind, YjsTag } from '../../src/yjs/protocol.js';
import { gatedChannel } from './support/tab-fakes.js';
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

  it('a tab that goes and speaks again under the same id is not asked for the document again, so it cannot keep every tab saying hello', async () => {
    const name = freshName();
    // Answers every hello with a state vector claiming the text, and every request for the
    // text with a goodbye; then, answering the next hello, it is back under the same id.
    const sv = Y.encodeStateVector((() => {
      const d = new Y.Doc();
      d.getText('t').insert(0, 'never sent');
      return d;
    })());
    const liar = new BroadcastChannel(`meshparty-tabs:${name}`);
    closeLater(() => liar.close());
    let hellos = 0;
    liar.onmessage = (e: MessageEvent) => {
      const env = e.data;
      if (!(env?.data instanceof Uint8Array) || (env.to !== undefined && env.to !== 'liar')) return;
      const d = decodeYjsMessage(env.data, { maxUpdateBytes: 1 << 20 } as never);
      if (!d.ok || d.message.tag !== YjsTag.SyncStep1) return;
      if (d.message.kind === Step1Kind.Hello && env.p) {
        hellos++;
        liar.postMessage({ t: 'meshparty-tab/1', from: 'liar', to: env.from, data: encodeSyncStep1(Step1Kind.Recheck, sv) });
        // (Sent after the recheck: once it is applied, the recheck was heard.)
        liar.postMessage({ t: 'meshparty-tab/1', from: 'liar', data: encodeUpdate(YjsTag.Update, insert(`hello ${hellos} heard`)) });
      } else if (d.message.kind === Step1Kind.Recheck) liar.postMessage({ t: 'meshparty-tab/1', from: 'liar', bye: true });
    };
    const sent: unknown[] = [];
    const t = tab(new Y.Doc(), name, { BroadcastChannel: gatedChannel('nobody', Promise.resolve(), sent) });
    const pullsOfLiar = () =>
      sent.filter((m) => {
        const env = m as { to?: string; data?: Uint8Array };
        const d = env.to === 'liar' && env.data ? decodeYjsMessage(env.data, { maxUpdateBytes: 1 << 20 } as never) : undefined;
        return d?.ok && d.message.tag === YjsTag.SyncStep1 && d.message.kind === Step1Kind.Recheck;
      }).length;
    const seen = (n: number) => t.doc.getText('t').toString().includes(`hello ${n} heard`);

    // Asked once, it goes: the tab says hello again, as it should (it owed the text).
    await waitFor(() => hellos >= 2 && seen(2), 'the second hello answered by the same id');
    // Not asked again (so it has no request to answer with a goodbye, and there is no third
    // hello); it stays counted, as any tab that speaks.
    expect(pullsOfLiar()).toBe(1);
    expect(sent.filter((m) => (m as { p?: true }).p)).toHaveLength(2);
    expect(t.tabs).toBe(1);
    expect(t.doc.getText('t').toString()).not.toContain('never sent');
  });
});
