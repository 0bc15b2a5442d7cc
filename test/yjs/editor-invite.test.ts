/**
 * The editor demo's "Copy invite link" button in headless Chromium: it says when the link
 * was copied, and where the page has no clipboard (plain http on a LAN address, as a
 * phone opening the dev server has) it shows the link to copy by hand. It used to do
 * nothing visible either way, so a person could not tell, and on such a phone nothing
 * was copied at all.
 */
import { describe, expect, it } from 'vitest';
import { roomHash } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();

describe('editor demo: the invite link', () => {
  it('is copied and said so, or shown when the page has no clipboard', async () => {
    const p = await editors.open(roomHash(`invite-${process.pid}`, 'pw'));
    await p.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await p.page.click('#share');
    await expect.poll(() => p.page.textContent('#share')).toBe('Link copied');
    expect(await p.page.evaluate(() => navigator.clipboard.readText())).toBe(p.page.url());

    const phone = await editors.open(roomHash(`invite-${process.pid}`, 'pw'), async (page) => {
      await page.addInitScript(() => {
        delete (Navigator.prototype as { clipboard?: unknown }).clipboard;
      });
    });
    // prompt() holds the page until answered: answer it from the handler, so the click returns.
    const shown: { type: string; value: string }[] = [];
    phone.page.on('dialog', (d) => void (shown.push({ type: d.type(), value: d.defaultValue() }), d.dismiss()));
    await phone.page.click('#share');
    await expect.poll(() => shown).toEqual([{ type: 'prompt', value: phone.page.url() }]);
    expect([...p.errors, ...phone.errors]).toEqual([]);
  }, 120_000);
});
