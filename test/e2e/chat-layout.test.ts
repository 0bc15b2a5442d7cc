/**
 * The chat demo at a phone's width (390 px) in headless Chromium: someone in the room
 * with a long unbroken name (32 characters, the most the page allows) must not push the
 * page wider than the screen. Their name in the peer list did: the whole page grew to fit
 * it, and the Send button went off the right edge.
 */
import { describe, expect, it } from 'vitest';
import { chatHarness } from './support/chat-harness.js';
import type { ChatPage } from './support/chat-page.js';

const PHONE = { width: 390, height: 844 };
const chats = chatHarness();

describe('chat demo on a phone', () => {
  it('a long unbroken name and link stay within the screen; Send stays on it', async () => {
    const room = `chat-layout-${process.pid}`;
    const open = (): Promise<ChatPage> => chats.open('', (page) => page.setViewportSize(PHONE));
    const long = await open();
    await long.page.fill('#room', room);
    await long.page.fill('#name', 'N'.repeat(32));
    await long.page.click('#join-form button[type=submit]');
    const phone = await open();
    await phone.page.fill('#room', room);
    await phone.page.click('#join-form button[type=submit]');
    await phone.waitForPeers(1);
    await phone.page.waitForFunction(() => document.getElementById('peers')!.textContent!.includes('N'.repeat(32)));
    const link = `https://example.com/${'a'.repeat(300)}`;
    await long.say(link);
    await phone.waitForMessage(link);

    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    for (const selector of ['#message', '#send-form button', '#peers li']) {
      const b = (await phone.page.locator(selector).boundingBox())!;
      expect(b.x + b.width, selector).toBeLessThanOrEqual(PHONE.width);
    }
    expect([...long.pageErrors, ...phone.pageErrors]).toEqual([]);
  }, 120_000);
});
