/**
 * The editor demo's name field in headless Chromium: a rename reaches the others, the
 * person's own presence list and their other tabs of the browser, and a name cleared (or
 * only spaces) keeps the old one, which the field then shows again. It used to stay empty
 * while everyone else still saw the old name.
 */
import { describe, expect, it } from 'vitest';
import { roomHash, waitUntilShown } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();

describe('editor demo: the name field', () => {
  it('shows the name the others see', async () => {
    const room = roomHash(`rename-${process.pid}`);
    const ada = await editors.open(room);
    const bob = await editors.open(room);
    await waitUntilShown(bob, 'two people', (s) => s.presence.length === 2);

    await ada.page.fill('#name', 'Ada');
    await ada.page.press('#name', 'Enter');
    await waitUntilShown(bob, 'the new name', (s) => s.presence.includes('Ada'));
    // And in Ada's own list: her first rename, made in place in the object presence held,
    // was no change to presence there, so her list kept the old name.
    await waitUntilShown(ada, 'her own new name', (s) => s.presence.includes('Ada (you)'), 5_000);

    await ada.page.fill('#name', '   ');
    await ada.page.press('#name', 'Tab'); // leaving the field commits it (change)
    await expect.poll(() => ada.page.inputValue('#name')).toBe('Ada');
    expect((await waitUntilShown(bob, 'still Ada', (s) => s.presence.length === 2)).presence).toContain('Ada');
    expect([...ada.errors, ...bob.errors]).toEqual([]);
  }, 120_000);

  it('a rename in one tab is the name in the other tabs of the browser too', async () => {
    const first = await editors.open(roomHash(`rename-tabs-${process.pid}`));
    // A second tab of the same browser (same context: same localStorage), on the same room.
    const page = await first.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e.stack ?? e)));
    await page.goto(first.page.url());
    await page.waitForSelector('.cm-content');
    const second = { ...first, page };
    await waitUntilShown(second, 'both tabs', (s) => s.presence.length === 2);

    await first.page.fill('#name', 'Ada');
    await first.page.press('#name', 'Enter');
    // The other tab takes it: its field, its own entry, and what the first tab lists for it.
    await expect.poll(() => page.inputValue('#name'), { timeout: 5_000 }).toBe('Ada');
    await waitUntilShown(second, 'Ada in the other tab', (s) => s.presence.join() === ['Ada', 'Ada (you)'].join(), 5_000);
    await waitUntilShown(first, 'the other tab as Ada', (s) => s.presence.join() === ['Ada', 'Ada (you)'].join(), 5_000);
    expect([...first.errors, ...errors]).toEqual([]);
  }, 120_000);
});
