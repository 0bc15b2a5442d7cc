/**
 * Two tabs of one browser (one context: the same origin, IndexedDB and BroadcastChannel)
 * on the editor demo's room sync through tab sync with the relay gone: one opened while it
 * was up, one opened after it stopped, which never joins. Each sees the other's typing
 * and presence, and a closed tab's presence goes at once (its goodbye on pagehide).
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { roomHash, shownText, textOf, type EditorPage } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();
const presence = (page: Page) => page.evaluate(() => [...document.querySelectorAll('#presence li')].map((li) => li.textContent ?? ''));

describe('editor demo: tabs of one browser', () => {
  it('sync with each other with no relay, presence included; a closed tab leaves the list at once', async () => {
    const first = await editors.open(roomHash(`tabs-${process.pid}`));
    await first.page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', null, { timeout: 30_000 });
    await editors.stopRelay();

    // A second tab of the same person, opened after the relay went away.
    const page = await first.context.newPage();
    const second: EditorPage = { context: first.context, page, errors: [] };
    page.on('pageerror', (e) => second.errors.push(String(e.stack ?? e)));
    await page.goto(first.page.url());
    await page.waitForSelector('.cm-content');

    await first.page.click('.cm-content');
    await first.page.keyboard.type('typed in the first tab. ', { delay: 5 });
    await page.waitForFunction(() => (window as unknown as { meshpartyEditor: { text(): string } }).meshpartyEditor.text().includes('typed in the first tab. '), null, { timeout: 20_000 });
    await page.click('.cm-content');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('and in the second.', { delay: 5 });
    await first.page.waitForFunction(() => (window as unknown as { meshpartyEditor: { text(): string } }).meshpartyEditor.text().includes('and in the second.'), null, { timeout: 20_000 });
    expect(await textOf(first)).toBe(await textOf(second));
    expect(await shownText(second)).toBe(await textOf(first));
    // Neither tab has a peer: the relay is gone, so this came over tab sync alone.
    expect(await page.evaluate(() => (window as unknown as { meshpartyEditor: { peers(): number } }).meshpartyEditor.peers())).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { meshpartyEditor: { tabs(): number } }).meshpartyEditor.tabs())).toBe(1);

    // Both tabs are listed in each (the same person's name twice: one is "(you)").
    for (const p of [first.page, page]) await p.waitForFunction(() => document.querySelectorAll('#presence li').length === 2, null, { timeout: 20_000 });
    expect((await presence(page)).filter((n) => n.endsWith('(you)'))).toHaveLength(1);

    // The first tab closes: the second drops it from the list without waiting for a timeout.
    await first.page.close({ runBeforeUnload: true });
    await page.waitForFunction(() => document.querySelectorAll('#presence li').length === 1, null, { timeout: 5_000 });
    expect(await presence(page)).toEqual([expect.stringMatching(/\(you\)$/)]);
    expect([...first.errors, ...second.errors]).toEqual([]);
  }, 120_000);
});
