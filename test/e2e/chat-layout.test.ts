/**
 * The chat demo at a phone's width (390 px) in headless Chromium: someone in the room
 * with a long unbroken name (32 characters, the most the page allows) must not push the
 * page wider than the screen. Their name in the peer list did: the whole page grew to fit
 * it, and the Send button went off the right edge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { SignalingServer } from '../../signaling/index.js';
import { launchChromium } from '../support/browser.js';
import { openChat, type ChatPage } from './support/chat-page.js';
import { startDevServer, startRelay, type Served } from './support/demo-servers.js';

const PHONE = { width: 390, height: 844 };
let browser: Browser;
let relay: SignalingServer;
let dev: Served;
const opened: ChatPage[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  relay = await startRelay();
  dev = await startDevServer();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((p) => p.page.close()));
  await browser?.close();
  await relay?.close();
  await dev?.close();
});

describe('chat demo on a phone', () => {
  it('a long unbroken name and link stay within the screen; Send stays on it', async () => {
    const room = `chat-layout-${process.pid}`;
    const open = async (): Promise<ChatPage> => {
      const p = await openChat(browser, { baseUrl: dev.url, relay: relay.address.url, room: '', beforeGoto: (page) => page.setViewportSize(PHONE) });
      opened.push(p);
      return p;
    };
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
