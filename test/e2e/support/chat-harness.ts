/**
 * What a file of chat demo browser tests needs: Chromium, a relay and the demos' dev
 * server, started before its tests and stopped after them, and chat pages opened on them
 * (closed after the file).
 */
import { afterAll, beforeAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../support/browser.js';
import { openChat, type ChatPage } from './chat-page.js';
import { startDevServer, startRelay, type Served } from './demo-servers.js';

export interface ChatHarness {
  /** Open `chat/` on this file's dev server and relay, in `room` (empty: the join form is left to fill). */
  open(room: string, beforeGoto?: (page: Page) => Promise<void>): Promise<ChatPage>;
}

/**
 * Registers the file's beforeAll/afterAll; call it at the top level of a test file.
 *
 * @example
 * ```ts
 * const chats = chatHarness();
 * it('...', async () => { const a = await chats.open('room-1'); await a.say('hi'); });
 * ```
 */
export function chatHarness(): ChatHarness {
  let browser: Browser;
  let relay: Awaited<ReturnType<typeof startRelay>>;
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
  return {
    open: async (room, beforeGoto) => {
      const p = await openChat(browser, { baseUrl: dev.url, relay: relay.address.url, room, beforeGoto });
      opened.push(p);
      return p;
    },
  };
}
