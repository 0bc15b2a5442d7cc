/**
 * Tabs of one browser on the editor demo (tab sync: BroadcastChannel and Web Locks) with one
 * tab frozen for real, as Chrome freezes a background tab (`Page.setWebLifecycleState`; see
 * test/support/freezable-chromium.ts). A frozen tab still holds its Web Lock, so the others
 * count it present; its timers and data channels stop, but Chromium (156) still runs its
 * BroadcastChannel handlers, so it goes on hearing (and answering) the other tabs. The
 * other tab must keep syncing with the room, a tab opened meanwhile must get the document
 * with neither relay nor IndexedDB, and the frozen tab, thawed (still hidden), must have
 * everything made meanwhile. (A tab that claims and then never answers, which this freeze
 * does not give, is tab-pull-timeout.test.ts's.)
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { roomHash, textOf, type EditorPage } from './support/editor-page.js';
import { appendText, frozenEditors, hasText } from './support/frozen-editors.js';

const editors = frozenEditors();

/** A page of a browser that refuses IndexedDB: its document comes from tab sync (or the room) only. */
const noIndexedDb = async (page: Page): Promise<void> => {
  await page.addInitScript(() => {
    IDBFactory.prototype.open = () => {
      throw new DOMException('The user denied permission to access the database.', 'SecurityError');
    };
  });
};

async function converged(pages: EditorPage[]): Promise<string> {
  await expect.poll(async () => new Set(await Promise.all(pages.map(textOf))).size, { timeout: 20_000 }).toBe(1);
  return textOf(pages[0]!);
}

describe('editor demo: a tab of one browser frozen for real', () => {
  it('with one tab frozen, the other still syncs with the room both ways; thawed, the frozen one gets it all and its last edit arrives', async () => {
    const hash = roomHash(`frozen-tabs-room-${process.pid}`);
    const t1 = await editors.tab(hash);
    const t2 = await editors.tab(hash);
    const bob = await editors.person(hash);
    await appendText(t1, 't1 first. ');
    for (const p of [t2, bob]) await hasText(p, 't1 first. ', 60_000);

    await appendText(t1, 't1 just before the freeze. ');
    await editors.chromium().freeze(t1.page);
    await appendText(t2, 't2 while t1 is frozen. ');
    await appendText(bob, 'bob while t1 is frozen. ');
    const t2GotBob = await hasText(t2, 'bob while t1 is frozen. ');
    const bobGotT2 = await hasText(bob, 't2 while t1 is frozen. ');
    for (const p of [t2, bob]) await hasText(p, 't1 just before the freeze. ');
    await new Promise((r) => setTimeout(r, 3000));

    await editors.chromium().thaw(t1.page);
    const t1Back = await hasText(t1, 'bob while t1 is frozen. ');
    await hasText(t1, 't2 while t1 is frozen. ');
    await appendText(t1, 't1 hidden after the thaw. ');
    for (const p of [t2, bob]) await hasText(p, 't1 hidden after the thaw. ');
    const text = await converged([t1, t2, bob]);
    for (const part of ['t1 first. ', 't1 just before the freeze. ', 't2 while t1 is frozen. ', 'bob while t1 is frozen. ', 't1 hidden after the thaw. ']) expect(text).toContain(part);
    for (const p of [t1, t2, bob]) expect(p.errors).toEqual([]);
    console.log(`t1 frozen: t2 had bob's edit in ${t2GotBob} ms, bob had t2's in ${bobGotT2} ms; t1 thawed had bob's in ${t1Back} ms`);
  }, 120_000);

  it('a tab opened while another is frozen gets the document from the tab that answers, with no relay and no IndexedDB, and the thawed tab gets its edits', async () => {
    await editors.stopRelay();
    const hash = roomHash(`frozen-tabs-alone-${process.pid}`);
    const t1 = await editors.tab(hash, noIndexedDb);
    const t2 = await editors.tab(hash, noIndexedDb);
    await appendText(t1, 'written in t1. ');
    await hasText(t2, 'written in t1. ');
    await appendText(t2, 'written in t2. ');
    await hasText(t1, 'written in t2. ');

    await editors.chromium().freeze(t1.page);
    const opened = Date.now();
    const t3 = await editors.tab(hash, noIndexedDb);
    // Nothing stored, no relay: only t2's answer can give it the text (t1 answers nothing).
    await hasText(t3, 'written in t2. ');
    const t3GotItMs = Date.now() - opened;
    await appendText(t3, 'written in t3. ');
    await hasText(t2, 'written in t3. ');
    await appendText(t2, 'written in t2 again. ');
    await hasText(t3, 'written in t2 again. ');
    expect(await t3.page.evaluate(() => (window as unknown as { meshpartyEditor: { persisted: Promise<boolean> } }).meshpartyEditor.persisted)).toBe(false);

    await editors.chromium().thaw(t1.page);
    const t1Back = await hasText(t1, 'written in t3. ');
    await hasText(t1, 'written in t2 again. ');
    const text = await converged([t1, t2, t3]);
    expect(text).toBe('written in t1. written in t2. written in t3. written in t2 again. ');
    for (const p of [t1, t2, t3]) expect(p.errors).toEqual([]);
    console.log(`t1 frozen: t3 opened had the text in ${t3GotItMs} ms (page load included); t1 thawed had t3's edit in ${t1Back} ms`);
  }, 120_000);
});
