/**
 * Tab sync with Web Locks (src/yjs/tab-locks.ts): a tab that crashes, so never says
 * goodbye, is dropped by the others at once with its presence; a tab is not taken for
 * gone while it lives (its lock is asked for only once it holds it, and a tab that holds
 * none is never watched); a lock manager that refuses leaves sync working. Node has no
 * Web Locks, so FakeLockManager stands in; editor-tabs.test.ts crashes a real tab.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { createTabSync, type BroadcastChannelLike, type TabSync } from '../../src/yjs/tab-sync.js';
import type { TabLocks } from '../../src/yjs/tab-locks.js';
import { waitFor } from '../support/net.js';
import { FakeLockManager } from './support/fake-locks.js';

const quiet = () => {};
let names = 0;
const freshName = () => `tab-crash-test-${process.pid}-${++names}`;
const open: TabSync[] = [];
afterEach(() => {
  for (const t of open.splice(0)) t.destroy();
});

/** A tab named `user` on `name`: its doc, presence, tab sync, and `crash()` (channel and locks gone, no goodbye). */
function tab(name: string, user: string, locks: (TabLocks & { crash?(): void }) | null) {
  const doc = new Y.Doc();
  const awareness = new Awareness(doc);
  awareness.setLocalStateField('user', { name: user });
  let channel: BroadcastChannelLike | undefined;
  const Channel = class extends BroadcastChannel {
    constructor(n: string) {
      super(n);
      channel = this as unknown as BroadcastChannelLike;
    }
  };
  const sync = createTabSync(doc, { name, awareness, locks, log: quiet, BroadcastChannel: Channel as never });
  open.push(sync);
  const crash = () => {
    channel!.close();
    locks?.crash?.();
  };
  return { doc, awareness, sync, crash };
}
const names_ = (aw: Awareness) => [...aw.getStates().values()].map((s) => s.user?.name).sort();

describe('tab sync: tabs that crash', () => {
  it('a crashed tab is dropped by every other tab at once, with its presence', async () => {
    const locks = new FakeLockManager();
    const name = freshName();
    const a = tab(name, 'Ada', locks.client());
    const b = tab(name, 'Bea', locks.client());
    const c = tab(name, 'Cy', locks.client());
    await waitFor(() => [a, b, c].every((t) => t.sync.tabs === 2 && t.awareness.getStates().size === 3), 'three tabs see each other');
    const counts: number[] = [];
    b.sync.on('tabs', ({ count }) => counts.push(count));

    a.crash();
    await waitFor(() => b.sync.tabs === 1 && c.sync.tabs === 1, 'the crashed tab is dropped', 1000);
    await waitFor(() => names_(b.awareness).join() === 'Bea,Cy' && names_(c.awareness).join() === 'Bea,Cy', 'its presence goes', 1000);
    expect(counts).toEqual([1]);
    // The two left still sync.
    b.doc.getText('t').insert(0, 'still here');
    await waitFor(() => c.doc.getText('t').toString() === 'still here', 'b to c');
  });

  it('a live tab is never taken for gone, also when its lock is granted late or it holds none', async () => {
    const locks = new FakeLockManager();
    const name = freshName();
    const a = tab(name, 'Ada', locks.client());
    // No lock at all (an app that turned them off, or an older meshparty): never watched.
    const b = tab(name, 'Bea', null);
    const c = tab(name, 'Cy', locks.client());
    await waitFor(() => [a, b, c].every((t) => t.sync.tabs === 2), 'three tabs see each other');
    expect(locks.holder(`meshparty-tab:${a.sync.tabId}`)).toBeDefined();
    expect(locks.holder(`meshparty-tab:${b.sync.tabId}`)).toBeUndefined();
    const drops: number[] = [];
    for (const t of [a, b, c]) t.sync.on('tabs', ({ count }) => drops.push(count));
    for (let i = 0; i < 20; i++) {
      for (const t of [a, b, c]) t.doc.getMap('m').set(t.awareness.getLocalState()!.user.name, i);
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => [a, b, c].every((t) => t.doc.getMap('m').get('Ada') === 19 && t.doc.getMap('m').get('Bea') === 19), 'edits arrive');
    expect(drops).toEqual([]);
    expect([a, b, c].map((t) => t.sync.tabs)).toEqual([2, 2, 2]);
  });

  it('a tab says nothing until it holds its lock, so no other tab can ask for it first', async () => {
    const locks = new FakeLockManager();
    const name = freshName();
    const a = tab(name, 'Ada', locks.client());
    // A lock manager that answers b's first request (its own lock) only when told.
    const slow = locks.client();
    let grant!: () => void;
    const granted = new Promise<void>((r) => (grant = r));
    let first = true;
    const late: TabLocks & { crash(): void } = {
      request: (n, o, cb) => {
        const wait = first ? granted : Promise.resolve();
        first = false;
        return wait.then(() => slow.request(n, o, cb));
      },
      crash: slow.crash,
    };
    const b = tab(name, 'Bea', late);
    b.doc.getText('t').insert(0, 'written while waiting');
    await new Promise((r) => setTimeout(r, 30));
    expect(a.sync.tabs).toBe(0);
    expect(a.doc.getText('t').toString()).toBe('');
    grant();
    await waitFor(() => a.sync.tabs === 1 && a.doc.getText('t').toString() === 'written while waiting', 'b speaks once it holds its lock');
    await new Promise((r) => setTimeout(r, 30));
    expect(a.sync.tabs).toBe(1);
  });

  it('a lock manager that refuses leaves sync working, and says why', async () => {
    const name = freshName();
    const logs: string[] = [];
    const refusing: TabLocks = { request: () => Promise.reject(new DOMException('no storage', 'SecurityError')) };
    const docA = new Y.Doc();
    open.push(createTabSync(docA, { name, locks: refusing, log: (m) => logs.push(m) }));
    const b = tab(name, 'Bea', null);
    docA.getText('t').insert(0, 'hi');
    await waitFor(() => b.doc.getText('t').toString() === 'hi' && b.sync.tabs === 1, 'a still syncs');
    expect(logs.some((m) => /no Web Lock for this tab \(no storage\)/.test(m))).toBe(true);
  });
});
