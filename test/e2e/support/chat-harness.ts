/**
 * What a file of chat demo browser tests needs: Chromium, a relay and the demos' dev
 * server, started before its tests and stopped after them, and chat pages opened on them
 * (closed after the file).
 */
import type { Page } from 'playwright-core';
import { openChat, type ChatPage } from './chat-page.js';
import { demoStack } from './demo-stack.js';

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
  const opened: ChatPage[] = [];
  const stack = demoStack(() => Promise.allSettled(opened.map((p) => p.page.close())));
  return {
    open: async (room, beforeGoto) => {
      const p = await openChat(stack.browser, { baseUrl: stack.dev.url, relay: stack.relay!.address.url, room, beforeGoto });
      opened.push(p);
      return p;
    },
  };
}
