/**
 * The editor demo (demos/editor) in headless Chromium: three people (separate browser
 * contexts, so separate IndexedDB) co-edit one document over WebRTC through our relay,
 * see each other's presence and chat; then, with the relay stopped and the others gone,
 * a reloaded page still shows the text (y-indexeddb).
 */
import { describe, expect, it } from 'vitest';
import { type EditorPage, roomHash, shownText, textOf } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();
const openEditor = (room: string): Promise<EditorPage> => editors.open(roomHash(room));

/**
 * Names on the remote cursors this page shows without hovering: drawn opaque, and the
 * topmost thing from their top to their bottom edge (not cut off by the editor's scroller).
 */
const cursorNames = (p: EditorPage) =>
  p.page.evaluate(() =>
    [...document.querySelectorAll('.cm-ySelectionInfo')]
      .filter((e) => {
        const r = e.getBoundingClientRect();
        const atEdges = [r.top + 1, r.bottom - 1].map((y) => document.elementFromPoint(r.left + r.width / 2, y));
        return getComputedStyle(e).opacity === '1' && atEdges.every((hit) => hit !== null && e.contains(hit));
      })
      .map((e) => e.textContent ?? ''),
  );

describe('editor demo in Chromium', () => {
  it('three pages co-edit and converge, with presence and chat; a page reloaded offline keeps its text', async () => {
    const room = `editor-${process.pid}`;
    const pages = [await openEditor(room), await openEditor(room), await openEditor(room)];
    for (const p of pages) await p.page.waitForFunction(() => document.getElementById('peer-count')?.textContent === '2 peers', null, { timeout: 60_000 });

    // Everyone types at once, each at the start of the document.
    await Promise.all(
      pages.map(async (p, i) => {
        await p.page.click('.cm-content');
        await p.page.keyboard.press('Control+Home');
        await p.page.keyboard.type(`line from person ${i}\n`, { delay: 5 });
      }),
    );
    await pages[0]!.page.waitForFunction(
      () => [0, 1, 2].every((i) => (window as unknown as { meshpartyEditor: { text(): string } }).meshpartyEditor.text().includes(`line from person ${i}\n`)),
      null,
      { timeout: 30_000 },
    );
    const converged = async () => new Set(await Promise.all(pages.map(textOf))).size === 1;
    for (let i = 0; i < 300 && !(await converged()); i++) await new Promise((r) => setTimeout(r, 100));
    const finalText = await textOf(pages[0]!);
    for (const p of pages) expect(await textOf(p)).toBe(finalText);
    for (let i = 0; i < 3; i++) expect(finalText).toContain(`line from person ${i}\n`);
    // What people see: the same text in every editor, everyone in the presence list.
    const names = await Promise.all(pages.map((p) => p.page.inputValue('#name')));
    for (const [i, p] of pages.entries()) {
      expect(await shownText(p)).toBe(finalText);
      await p.page.waitForFunction(() => document.querySelectorAll('#presence li').length === 3, null, { timeout: 20_000 });
      // The other two people's cursors, labelled with their names (shown, not only on hover).
      expect((await cursorNames(p)).sort()).toEqual(names.filter((_, j) => j !== i).sort());
    }
    // A cursor on the first line keeps its name in view (the label sits above the line).
    await pages[0]!.page.click('.cm-content');
    await pages[0]!.page.keyboard.press('Control+Home');
    const onFirstLine = () => pages[1]!.page.evaluate(() => document.querySelector('.cm-line')?.querySelector('.cm-ySelectionInfo')?.textContent);
    await expect.poll(onFirstLine, { timeout: 20_000 }).toBe(names[0]);
    expect(await cursorNames(pages[1]!)).toContain(names[0]);

    // Chat beside the document.
    await pages[1]!.page.fill('#chat-input', 'hi all');
    await pages[1]!.page.click('#chat-form button[type=submit]');
    for (const p of [pages[0]!, pages[2]!]) {
      await p.page.waitForFunction(() => document.getElementById('chat-log')?.textContent?.includes('hi all'), null, { timeout: 20_000 });
    }

    // Offline: the others leave, the relay stops; page 0 reloads and keeps its text.
    const solo = pages[0]!;
    await solo.page.waitForFunction(
      async (want) => (await (window as unknown as { meshpartyEditor: { storedText(): Promise<string> } }).meshpartyEditor.storedText()) === want,
      finalText,
      { timeout: 20_000, polling: 200 },
    );
    await Promise.all([pages[1]!.context.close(), pages[2]!.context.close()]);
    await editors.stopRelay();
    await solo.page.reload();
    await solo.page.waitForFunction(
      (want) => (window as unknown as { meshpartyEditor?: { text(): string } }).meshpartyEditor?.text() === want,
      finalText,
      { timeout: 20_000 },
    );
    expect(await shownText(solo)).toBe(finalText);
    await solo.page.waitForFunction(() => document.getElementById('status')?.dataset.state !== 'connected', null, { timeout: 20_000 });
    for (const p of pages) expect(p.errors).toEqual([]);
  }, 180_000);
});
