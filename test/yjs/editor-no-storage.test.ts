/**
 * The editor demo in a browser that lets the site keep no data (Chrome or Safari with
 * "block all cookies / site data", a locked-down profile): reading `localStorage` throws a
 * SecurityError and opening IndexedDB fails with an error event, as Chromium does there.
 * The page must still load, join and co-edit over the mesh (keeping no copy of the text),
 * and a rename must still reach the others; it showed no editor at all (the SecurityError
 * at the module's top level), and with only IndexedDB failing it stayed "connecting…" for
 * good, waiting for a stored copy that never loaded.
 */
import { describe, expect, it } from 'vitest';
import { roomHash, shownNow, statusOf, textOf, typeAtEnd, waitUntilShown } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';
import { blockSiteData } from '../support/block-site-data.js';

const editors = editorHarness();

describe('editor demo: a browser that keeps no site data', () => {
  it('still joins the room and co-edits, renames reach the others, no page error', async () => {
    const room = roomHash(`no-storage-${process.pid}`);
    const ada = await editors.open(room);
    const locked = await editors.open(room, blockSiteData);
    // The simulated block is in place: the page cannot read localStorage.
    expect(await locked.page.evaluate(() => {
      try {
        return typeof localStorage;
      } catch (err) {
        return (err as DOMException).name;
      }
    })).toBe('SecurityError');
    await expect.poll(() => statusOf(locked), { timeout: 60_000, interval: 200 }).toEqual({ state: 'connected', text: 'connected' });
    await waitUntilShown(locked, 'both listed', (s) => s.peerCount === '1 peer' && s.presence.length === 2);

    await typeAtEnd(locked, 'from the locked-down browser. ');
    await waitUntilShown(ada, 'its text', (s) => s.text.includes('from the locked-down browser. '));
    await typeAtEnd(ada, 'and back.');
    await waitUntilShown(locked, 'the text back', (s) => s.text.includes('and back.'));
    expect(await textOf(locked)).toBe(await textOf(ada));

    await locked.page.fill('#name', 'Lee');
    await locked.page.press('#name', 'Enter');
    await waitUntilShown(ada, 'the rename', (s) => s.presence.includes('Lee'));
    expect(await locked.page.inputValue('#name')).toBe('Lee');
    // It keeps no copy: the page does not claim a stored one was loaded.
    expect((await shownNow(locked))?.loaded).toBe(false);
    expect([...ada.errors, ...locked.errors]).toEqual([]);
  }, 120_000);
});
