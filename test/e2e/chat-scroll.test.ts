/**
 * The chat demo's log in headless Chromium: someone who scrolled up to read back stays
 * where they are when a new line comes (every line threw them to the bottom), someone at
 * the bottom follows the new lines, and a line of their own always takes them to it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { SignalingServer } from '../../signaling/index.js';
import { launchChromium } from '../support/browser.js';
import { openChat, type ChatPage } from './support/chat-page.js';
import { startDevServer, startRelay, type Served } from './support/demo-servers.js';

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

/** How far (px) the log is from its bottom, and its scrollTop. */
const logPosition = (p: ChatPage) =>
  p.page.evaluate(() => {
    const log = document.getElementById('log')!;
    return { fromBottom: log.scrollHeight - log.scrollTop - log.clientHeight, top: log.scrollTop, scrollable: log.scrollHeight > log.clientHeight };
  });

describe('chat demo log scrolling', () => {
  it('keeps a reader who scrolled up where they are, follows one at the bottom, and shows one\'s own line', async () => {
    const room = `chat-scroll-${process.pid}`;
    const [a, b] = [await openChat(browser, { baseUrl: dev.url, relay: relay.address.url, room }), await openChat(browser, { baseUrl: dev.url, relay: relay.address.url, room })];
    opened.push(a, b);
    await b.waitForPeers(1);
    for (let i = 0; i < 60; i++) await a.say(`line ${i}`);
    await b.waitForMessage('line 59');
    const start = await logPosition(b);
    expect(start.scrollable).toBe(true);
    expect(start.fromBottom).toBeLessThanOrEqual(24); // it followed the lines so far

    await b.page.evaluate(() => (document.getElementById('log')!.scrollTop = 0)); // back to read
    await a.say('a new line while b reads back');
    await b.waitForMessage('a new line while b reads back');
    expect((await logPosition(b)).top).toBe(0);

    await b.say('my own answer'); // one's own line: shown, wherever one was
    await a.waitForMessage('my own answer'); // (b shows its own line as it sends it, before a has it)
    expect((await logPosition(b)).fromBottom).toBeLessThanOrEqual(24);
    await a.say('and a reply'); // at the bottom again: follows
    await b.waitForMessage('and a reply');
    expect((await logPosition(b)).fromBottom).toBeLessThanOrEqual(24);
    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
  }, 120_000);
});
