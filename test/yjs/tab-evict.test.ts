/**
 * Past MAX_TABS other tabs, the one heard from least recently is dropped from the table
 * as a tab that went is: with the presence it spoke for, and with what it was asked for, which
 * another tab that has it is then asked for (without a hello to every tab).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MAX_TABS, type TabSync } from '../../src/yjs/tab-sync.js';
import { encodeUpdate, YjsTag } from '../../src/yjs/protocol.js';
import { ManualClock } from '../../src/util/clock.js';
import { waitFor } from '../support/net.js';
import { gatedChannel, tabTestbed } from './support/tab-fakes.js';

let crowds = 0;
/** The Awareness' presence check (presence-check.ts), which runs on the tab sync's clock too: the one timer left once no pull waits. */
const PRESENCE_CHECK = 1;
const { freshName, tab, scripted, closeLater } = tabTestbed('tab-evict-test');

/** `count` more tabs speak once each (an empty update) on `name`, until `t` knows `until` tabs. */
async function crowd(name: string, t: TabSync, count: number, until: number) {
  const ch = new BroadcastChannel(`meshparty-tabs:${name}`);
  closeLater(() => ch.close());
  const empty = encodeUpdate(YjsTag.Update, Y.encodeStateAsUpdate(new Y.Doc()));
  const seen: number[] = [];
  const from = crowds++;
  const off = t.on('tabs', ({ count: n }) => seen.push(n));
  for (let i = 0; i < count; i++) ch.postMessage({ t: 'meshparty-tab/1', from: `crowd-${from}-${i}`, data: empty });
  await waitFor(() => seen.length === count, `${count} more tabs heard`);
  off();
  expect(t.tabs).toBe(until);
}

describe('tab sync: past MAX_TABS tabs', () => {
  it('the tab dropped from the table takes its presence with it', async () => {
    const name = freshName();
    const first = scripted(name, 'first', new Y.Doc());
    const t = tab(new Y.Doc(), name);
    const shows = () => t.awareness.getStates().has(first.presenceClient);
    await waitFor(() => t.tabs === 1 && shows(), 'the first tab answers the hello and shows');
    const removed: number[] = [];
    t.awareness.on('change', ({ removed: r }: { removed: number[] }) => removed.push(...r));

    await crowd(name, t, MAX_TABS - 1, MAX_TABS);
    expect(shows()).toBe(true);
    await crowd(name, t, 1, MAX_TABS);
    expect(shows()).toBe(false);
    expect(removed).toEqual([first.presenceClient]);
  });

  it('what the dropped tab was asked for is asked of another tab that has it', async () => {
    const name = freshName();
    const clock = new ManualClock();
    const full = new Y.Doc();
    full.getText('t').insert(0, 'the text');
    const t1 = tab(full, name);
    // (A presence of its own, which comes after its recheck: y-protocols does not apply an empty first one.)
    t1.awareness.setLocalStateField('user', { name: 't1' });
    // Says it has the text and never sends it; the new tab hears it before t1.
    const stuck = scripted(name, 'stuck', full);
    const doc = new Y.Doc();
    let release!: () => void;
    const t = tab(doc, name, { clock, BroadcastChannel: gatedChannel(t1.tabId, new Promise<void>((r) => (release = r))) });
    await waitFor(() => stuck.pulls.length === 1, 'the new tab asks the stuck tab');
    release();
    const shows = (client: number) => t.awareness.getStates().has(client);
    await waitFor(() => t.tabs === 2 && shows(stuck.presenceClient) && shows(t1.awareness.clientID), 't1 answered too');

    // No timeout (the clock stands still): only the eviction can send the new tab to t1.
    await crowd(name, t, MAX_TABS - 2, MAX_TABS);
    expect(doc.getText('t').toString()).toBe('');
    await crowd(name, t, 1, MAX_TABS);
    await waitFor(() => doc.getText('t').toString() === 'the text', 'the new tab asks t1 and gets the text');
    expect(shows(stuck.presenceClient)).toBe(false);
    expect(stuck.pulls).toHaveLength(1);
    expect(clock.pending).toBe(PRESENCE_CHECK);
  });

  it('the tab dropped is the one heard from least recently: a tab heard again stays', async () => {
    const name = freshName();
    const first = scripted(name, 'first', new Y.Doc());
    const t = tab(new Y.Doc(), name);
    const shows = (client: number) => t.awareness.getStates().has(client);
    await waitFor(() => t.tabs === 1 && shows(first.presenceClient), 'the first tab answers the hello and shows');
    const second = scripted(name, 'second', new Y.Doc());
    second.show({ user: { name: 'second' } });
    await waitFor(() => t.tabs === 2 && shows(second.presenceClient), 'the second tab shows');

    await crowd(name, t, MAX_TABS - 2, MAX_TABS);
    // The first tab speaks again, so the second is now the one heard from least recently.
    first.show({ user: { name: 'first, again' } });
    await waitFor(() => t.awareness.getStates().get(first.presenceClient)?.user?.name === 'first, again', 'the first tab heard again');
    await crowd(name, t, 1, MAX_TABS);
    expect([shows(first.presenceClient), shows(second.presenceClient)]).toEqual([true, false]);
  });
});
