/**
 * The editor demo at a phone's width (390 px) in headless Chromium: the document gets
 * the width of the screen (the side panel used to leave it a column a word wide), and
 * nothing in the header or the chat form is off the screen; a long link in the chat wraps.
 */
import { describe, expect, it } from 'vitest';
import { roomHash, shownText, typeAtEnd } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();

const PHONE = { width: 390, height: 844 };

describe('editor demo on a phone', () => {
  it('the document is as wide as the screen and every control is on it', async () => {
    const p = await editors.open(roomHash(`phone-${process.pid}`), (page) => page.setViewportSize(PHONE));
    const sentence = 'A sentence of several words typed on a phone';
    await typeAtEnd(p, sentence);
    expect(await shownText(p)).toBe(sentence);

    const box = (selector: string) => p.page.locator(selector).boundingBox();
    // Nothing to scroll sideways.
    expect(await p.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    // The text has (nearly) the screen's width: about 8 characters fit in the old column.
    expect((await box('.cm-content'))!.width).toBeGreaterThan(PHONE.width * 0.75);
    const lines = await p.page.evaluate(() => document.querySelectorAll('.cm-line')[0]!.getClientRects().length);
    expect(lines).toBeLessThanOrEqual(2);
    // Every control is on the screen.
    for (const selector of ['#status', '#peer-count', '#share', '#name', '#chat-input', '#chat-form button']) {
      const b = (await box(selector))!;
      expect(b, selector).not.toBeNull();
      expect(b.x, selector).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width, selector).toBeLessThanOrEqual(PHONE.width);
      expect(b.y + b.height, selector).toBeLessThanOrEqual(PHONE.height);
    }

    // A long link said in the chat, by a long unbroken name, wraps: read without scrolling sideways.
    await p.page.fill('#name', 'N'.repeat(32));
    await p.page.press('#name', 'Enter');
    const link = `https://example.com/${'a'.repeat(300)}`;
    await p.page.fill('#chat-input', link);
    await p.page.click('#chat-form button[type=submit]');
    await p.page.waitForFunction((t) => document.getElementById('chat-log')!.textContent!.includes(t), link);
    for (const list of ['#chat-log', '#presence']) {
      const { scroll, client } = await p.page.$eval(list, (e) => ({ scroll: e.scrollWidth, client: e.clientWidth }));
      expect(scroll, list).toBeLessThanOrEqual(client);
    }
    expect(p.errors).toEqual([]);
  }, 120_000);
});
