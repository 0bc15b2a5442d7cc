/**
 * The editor demo's name field in headless Chromium: a rename reaches the others and the
 * person's own presence list, and a name cleared (or only spaces) keeps the old one, which the field then shows again. It
 * used to stay empty while everyone else still saw the old name.
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
});
