/**
 * A tab opening (tab sync's hello, src/yjs/tab-sync.ts) gets the document from one other
 * tab, not from each; still gets every tab's deletions (which state vectors do not
 * show); and asks again when the tab it asked goes before answering, without asking a
 * second time a tab that still owes its answer, and only if what that tab owed is still
 * missing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createTabSync, type TabSync, type TabSyncOptions } from '../../src/yjs/tab-sync.js';
import { decodeYjsMessage, encodeSyncStep1, encodeUpdate, Step1Kind, YjsTag } from '../../src/yjs/protocol.js';
import { waitFor } from '../support/net.js';
import { FakeLockManager } from './support/fake-locks.js';
import { gatedChannel, scriptedTab } from './support/tab-fakes.js';

let names = 0;
const freshName = () => `tab-hello-test-${process.pid}-${++names}`;
const open: TabSync[] = [];
const closers: Array<() => void> = [];
afterEach(() => {
  for (const t of open.splice(0)) t.destroy();
  for (const c of closers.splice(0)) c();
});
const tab = (doc: Y.Doc, name: string, extra: Partial<TabSyncOptions> = {}) => {
  const t = createTabSync(doc, { name, log: () => {}, limits: { maxUpdateBytes: 1 << 20 }, ...extra });
  open.push(t);
  return t;
};
/** A channel on `name` that sees every envelope (BroadcastChannel delivers `to` messages to all). */
function listen(name: string) {
  const seen: Array<{ from: string; to?: string; data: Uint8Array }> = [];
  const ch = new BroadcastChannel(`meshparty-tabs:${name}`);
  ch.onmessage = (e: MessageEvent) => {
    if (e.data?.data instanceof Uint8Array) seen.push(e.data);
  };
  closers.push(() => ch.close());
  return { seen, post: (m: unknown) => ch.postMessage(m) };
}
const isStep2 = (data: Uint8Array) => {
  const d = decodeYjsMessage(data, { maxUpdateBytes: 1 << 20 } as never);
  return d.ok && d.message.tag === YjsTag.SyncStep2;
};

describe('tab sync: a tab opening', () => {
  it('gets the document from one tab, not one copy from each', async () => {
    const name = freshName();
    const docs = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
    for (const d of docs) tab(d, name);
    docs[0]!.getText('t').insert(0, 'x'.repeat(20_000));
    await waitFor(() => docs.every((d) => d.getText('t').length === 20_000), 'three tabs share the text');
    const wire = listen(name);

    const late = new Y.Doc();
    const t = tab(late, name);
    await waitFor(() => late.getText('t').length === 20_000 && t.tabs === 3, 'the new tab has the text and knows the three');
    await new Promise((r) => setTimeout(r, 50));
    const bigAnswers = wire.seen.filter((m) => m.to === t.tabId && isStep2(m.data) && m.data.length > 10_000);
    expect(bigAnswers).toHaveLength(1);
  });

  it('gets a deletion another tab has although its state vector shows nothing new', async () => {
    const name = freshName();
    const a = new Y.Doc();
    a.getText('t').insert(0, 'keep this, drop this');
    // The new tab starts from an older copy (say, its storage loaded before the delete was stored).
    const stale = new Y.Doc();
    Y.applyUpdate(stale, Y.encodeStateAsUpdate(a));
    a.getText('t').delete(10, 10);
    expect(Y.encodeStateVector(stale)).toEqual(Y.encodeStateVector(a));
    tab(a, name);
    tab(stale, name);
    await waitFor(() => stale.getText('t').toString() === 'keep this,', 'the deletion reaches the new tab');
  });

  it('asks again when the tab it asked goes before answering', async () => {
    const name = freshName();
    const locks = new FakeLockManager();
    const full = new Y.Doc();
    full.getText('t').insert(0, 'the text');
    const t1 = tab(full, name, { locks: locks.client() });

    // A tab that answers hellos with a state vector saying it has the text, and then
    // neither answers the request for it nor says goodbye: it is going to crash.
    const doomedLocks = locks.client();
    await new Promise<void>((held) => void doomedLocks.request('meshparty-tab:doomed', {}, () => (held(), new Promise(() => {}))));
    const doomed = listen(name);
    const sv = Y.encodeStateVector(full);
    const newTabs = new Set<string>();
    const doomedChannel = new BroadcastChannel(`meshparty-tabs:${name}`);
    closers.push(() => doomedChannel.close());
    doomedChannel.onmessage = (e: MessageEvent) => {
      const env = e.data;
      if (!env?.p || newTabs.has(env.from)) return;
      newTabs.add(env.from);
      doomedChannel.postMessage({ t: 'meshparty-tab/1', from: 'doomed', to: env.from, l: true, data: encodeSyncStep1(Step1Kind.Recheck, sv) });
    };

    // The new tab hears the doomed tab first: t1's messages are held back until then.
    const late = new Y.Doc();
    let release!: () => void;
    const Gated = gatedChannel(t1.tabId, new Promise<void>((r) => (release = r)));
    const t = tab(late, name, { locks: locks.client(), BroadcastChannel: Gated });
    await waitFor(() => doomed.seen.some((m) => m.from === t.tabId && m.to === 'doomed'), 'the new tab asks the doomed tab');
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(late.getText('t').toString()).toBe('');

    doomedLocks.crash();
    await waitFor(() => late.getText('t').toString() === 'the text', 'the new tab asks again and gets the text', 2000);
    expect(t.tabs).toBe(1);
  });
});

describe('tab sync: a tab that answers with less than it said it has', () => {
  it('is not asked again, and the new tab asks another tab', async () => {
    const name = freshName();
    const full = new Y.Doc();
    full.getText('t').insert(0, 'the text');
    const t1 = tab(full, name);

    // A tab that answers hellos saying it has the text, and the request for it with nothing.
    const sv = Y.encodeStateVector(full);
    const empty = Y.encodeStateAsUpdate(new Y.Doc());
    const asked: string[] = [];
    const liar = new BroadcastChannel(`meshparty-tabs:${name}`);
    closers.push(() => liar.close());
    liar.onmessage = (e: MessageEvent) => {
      const env = e.data;
      if (!(env?.data instanceof Uint8Array) || (env.to !== undefined && env.to !== 'liar')) return;
      const d = decodeYjsMessage(env.data, { maxUpdateBytes: 1 << 20 } as never);
      if (!d.ok || d.message.tag !== YjsTag.SyncStep1) return;
      const reply = (data: Uint8Array) => liar.postMessage({ t: 'meshparty-tab/1', from: 'liar', to: env.from, data });
      if (d.message.kind === Step1Kind.Hello && env.p) reply(encodeSyncStep1(Step1Kind.Recheck, sv));
      else if (d.message.kind === Step1Kind.Recheck) {
        asked.push(env.from);
        reply(encodeUpdate(YjsTag.SyncStep2, empty));
      }
    };

    // The new tab hears the liar first: t1's messages are held back until it asked the liar.
    const late = new Y.Doc();
    let release!: () => void;
    const t = tab(late, name, { BroadcastChannel: gatedChannel(t1.tabId, new Promise<void>((r) => (release = r))) });
    await waitFor(() => asked.length === 1, 'the new tab asks the liar');
    release();
    await waitFor(() => late.getText('t').toString() === 'the text', 'the new tab asks t1 and gets the text', 2000);
    await new Promise((r) => setTimeout(r, 50));
    expect(asked).toEqual([t.tabId]);
  });
});

describe('tab sync: asking again after a tab asked goes', () => {
  it('does not ask a second time a tab still sending what it was asked for', async () => {
    const name = freshName();
    const [docA, docB] = [new Y.Doc(), new Y.Doc()];
    docA.getText('a').insert(0, 'from a');
    docB.getText('b').insert(0, 'from b');
    // Each has what the other lacks, so the new tab asks both; neither answers yet.
    const a = scriptedTab(name, 'a', docA);
    const b = scriptedTab(name, 'b', docB);
    closers.push(a.close, b.close);
    const late = new Y.Doc();
    const t = tab(late, name);
    await waitFor(() => a.pulls.length === 1 && b.pulls.length === 1, 'the new tab asks both');

    // B goes before answering: the new tab says hello again, and a answers it (a recheck).
    b.bye();
    await waitFor(() => a.hellos === 2, 'a hears the second hello');
    // Sent after that recheck, so once it shows, the recheck was heard.
    a.show({ user: { name: 'a again' } });
    await waitFor(() => t.awareness.getStates().get(a.presenceClient)?.user?.name === 'a again', 'a\'s recheck heard');
    expect(a.pulls).toHaveLength(1);

    a.answer(a.pulls[0]!);
    await waitFor(() => late.getText('a').toString() === 'from a', 'a\'s answer applied');
    expect(t.tabs).toBe(1);
  });

  it('asks no one again when what the tab that went was asked for came from another tab meanwhile', async () => {
    const name = freshName();
    const [docA, docB] = [new Y.Doc(), new Y.Doc()];
    docA.getText('a').insert(0, 'from a');
    // B has all a has, and more: the new tab asks a first (b is held back), then b for the rest.
    Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA));
    docB.getText('b').insert(0, 'from b');
    const a = scriptedTab(name, 'a', docA);
    const b = scriptedTab(name, 'b', docB);
    closers.push(a.close, b.close);
    const sent: unknown[] = [];
    let release!: () => void;
    const late = new Y.Doc();
    const t = tab(late, name, { BroadcastChannel: gatedChannel('b', new Promise<void>((r) => (release = r)), sent) });
    await waitFor(() => a.pulls.length === 1, 'the new tab asks a');
    release();
    await waitFor(() => b.pulls.length === 1, 'and b for what a does not have');

    // B's answer brings what a was asked for too; then a goes without answering.
    b.answer(b.pulls[0]!);
    await waitFor(() => late.getText('a').toString() === 'from a' && late.getText('b').toString() === 'from b', 'b\'s answer applied');
    a.bye();
    await waitFor(() => t.tabs === 1, 'a is forgotten');
    expect(sent.filter((m) => (m as { p?: true }).p)).toHaveLength(1);
  });
});
