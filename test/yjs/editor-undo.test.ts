/**
 * Undo and redo in the editor demo (demos/editor), in Chromium with the keys people press:
 * Ctrl+Z undoes this person's own last edit only (what someone else typed stays), and
 * Ctrl+Y or Ctrl+Shift+Z brings it back, for everyone in the room.
 */
import { describe, expect, it } from 'vitest';
import { roomHash, shownText, textOf, typeAtEnd, type EditorPage } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();
const textIs = (p: EditorPage, want: string) => expect.poll(() => textOf(p), { timeout: 20_000, interval: 100 }).toBe(want);

describe('editor demo: undo and redo', () => {
  it("undo takes back only this person's edit, and both redo keys bring it back for everyone", async () => {
    const hash = roomHash(`undo-${process.pid}`);
    const ada = await editors.open(hash);
    const pat = await editors.open(hash);
    await ada.page.waitForFunction(() => document.getElementById('peer-count')?.textContent === '1 peer', null, { timeout: 60_000 });

    await typeAtEnd(ada, 'Ada wrote this. ');
    await textIs(pat, 'Ada wrote this. ');
    await typeAtEnd(pat, 'Pat wrote that.');
    const both = 'Ada wrote this. Pat wrote that.';
    await textIs(ada, both);

    await ada.page.click('.cm-content');
    await ada.page.keyboard.press('Control+z');
    await textIs(ada, 'Pat wrote that.');
    await textIs(pat, 'Pat wrote that.');

    await ada.page.keyboard.press('Control+y');
    await textIs(ada, both);
    await textIs(pat, both);

    await ada.page.keyboard.press('Control+z');
    await textIs(pat, 'Pat wrote that.');
    // A real keyboard's Shift+Z: the key is 'Z' (Playwright's 'Shift+z' would send 'z').
    await ada.page.keyboard.press('Control+Shift+Z');
    await textIs(pat, both);
    await textIs(ada, both);
    expect(await shownText(ada)).toBe(both);
    expect([...ada.errors, ...pat.errors]).toEqual([]);
  }, 120_000);
});
