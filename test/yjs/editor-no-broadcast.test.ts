/**
 * The editor demo in a browser without BroadcastChannel (Safari before 15.4, an old phone):
 * tab sync cannot start there, but the page must still load, join and co-edit over the
 * mesh. createTabSync throws broadcast-channel-unsupported, and at the page's top level
 * that left the editor without a connection, a chat or a presence list.
 */
import { describe, expect, it } from 'vitest';
import { roomHash, shownNow, statusOf, textOf, typeAtEnd, waitUntilShown } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();

describe('editor demo: a browser without BroadcastChannel', () => {
  it('still joins the room and co-edits, with no page error', async () => {
    const room = roomHash(`no-bc-${process.pid}`);
    const ada = await editors.open(room);
    const old = await editors.open(room, async (page) => {
      await page.addInitScript(() => {
        delete (window as { BroadcastChannel?: unknown }).BroadcastChannel;
      });
    });
    await expect.poll(() => statusOf(old), { timeout: 60_000, interval: 200 }).toEqual({ state: 'connected', text: 'connected' });
    await waitUntilShown(old, 'both listed', (s) => s.peerCount === '1 peer' && s.presence.length === 2);

    await typeAtEnd(old, 'from the old phone. ');
    await waitUntilShown(ada, 'the old phone’s text', (s) => s.text.includes('from the old phone. '));
    await typeAtEnd(ada, 'and back.');
    await waitUntilShown(old, 'the text back', (s) => s.text.includes('and back.'));
    expect(await textOf(old)).toBe(await textOf(ada));
    expect((await shownNow(old))?.presence).toHaveLength(2);
    expect([...ada.errors, ...old.errors]).toEqual([]);
  }, 120_000);
});
