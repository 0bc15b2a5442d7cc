/**
 * A tab of the editor demo that crashes (its renderer killed: no pagehide, no goodbye)
 * leaves the other tab's tab count and presence list at once, through its Web Lock
 * (src/yjs/tab-locks.ts), not after y-protocols' 30 s presence timeout.
 */
import { describe, expect, it } from 'vitest';
import { roomHash } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();

describe('editor demo: a tab that crashes', () => {
  it('a tab that crashes leaves the other tab\'s count and presence list at once', async () => {
    const first = await editors.open(roomHash(`tabs-crash-${process.pid}`));
    await first.page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', null, { timeout: 30_000 });
    // No relay, so the tabs never meet in the mesh: what the second knows of the first is tab sync's.
    await editors.stopRelay();
    const page = await first.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e.stack ?? e)));
    await page.goto(first.page.url());
    await page.waitForSelector('.cm-content');
    await page.waitForFunction(() => document.querySelectorAll('#presence li').length === 2, null, { timeout: 20_000 });
    const tabs = () => page.evaluate(() => (window as unknown as { meshpartyEditor: { tabs(): number } }).meshpartyEditor.tabs());
    expect(await tabs()).toBe(1);

    // The renderer dies: no pagehide, no goodbye.
    const crashed = new Promise((r) => first.page.once('crash', r));
    const cdp = await first.context.newCDPSession(first.page);
    void cdp.send('Page.crash').catch(() => {});
    await crashed;
    // Well inside y-protocols' 30 s presence timeout, which was the only way out before.
    await page.waitForFunction(() => document.querySelectorAll('#presence li').length === 1, null, { timeout: 5_000 });
    expect(await tabs()).toBe(0);
    expect(errors).toEqual([]);
  }, 120_000);
});
