/**
 * Drives one tab of the chat demo (demos/chat) in Chromium through what a user sees:
 * the status badge, the peer list, the message log, the error banner.
 */
import type { Browser, Page } from 'playwright-core';
import { watchPageErrors } from './page-errors.js';

export interface ChatPage {
  page: Page;
  /** Uncaught exceptions in the page (must stay empty). */
  pageErrors: string[];
  /** Console messages of type `error`, for failure messages. */
  consoleErrors: string[];
  /** Wait until this tab shows `n` connected peers. */
  waitForPeers(n: number, timeoutMs?: number): Promise<void>;
  /** Type a message and press Send. */
  say(text: string): Promise<void>;
  /** Wait until a chat line containing `text` from someone else is in the log. */
  waitForMessage(text: string, timeoutMs?: number): Promise<void>;
  /** Wait until the error banner shows `code`; resolves with its text. */
  waitForError(code: string, timeoutMs?: number): Promise<string>;
  /** Wait until the status badge is in `state` (`connected`, `reconnecting`, ...). */
  waitForStatus(state: string, timeoutMs?: number): Promise<void>;
  selfId(): Promise<string>;
}

/**
 * Open `chat/` on `baseUrl` with the room (and password) in the hash, the relay in
 * `?relay=`; `beforeGoto` runs on the page first (to add an init script, say).
 */
export async function openChat(
  browser: Browser,
  o: { baseUrl: string; relay: string; room: string; password?: string; beforeGoto?: (page: Page) => Promise<void> },
): Promise<ChatPage> {
  const page = await browser.newPage();
  await o.beforeGoto?.(page);
  const { pageErrors, consoleErrors, describe: errorsText } = watchPageErrors(page);
  const hash = new URLSearchParams({ room: o.room, ...(o.password ? { password: o.password } : {}) });
  await page.goto(`${o.baseUrl}chat/?relay=${encodeURIComponent(o.relay)}#${hash}`);

  const context = (): string => `\n${errorsText()}`;
  const wait = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      throw new Error(`${what}: ${String(err)}${context()}`);
    }
  };

  return {
    page,
    pageErrors,
    consoleErrors,
    waitForPeers: (n, timeoutMs = 30_000) =>
      wait(`waiting for ${n} connected peer(s)`, () =>
        page.waitForFunction((count) => document.querySelectorAll('#peers li[data-peer-id]').length === count, n, { timeout: timeoutMs }),
      ),
    say: async (text) => {
      await page.fill('#message', text);
      await page.click('#send-form button[type=submit]');
    },
    waitForMessage: (text, timeoutMs = 20_000) =>
      wait(`waiting for message "${text}"`, () =>
        page.waitForFunction(
          (t) => [...document.querySelectorAll('#log li.chat')].some((li) => li.textContent?.includes(t) && !li.textContent.includes('(you)')),
          text,
          { timeout: timeoutMs },
        ),
      ),
    waitForError: async (code, timeoutMs = 20_000) => {
      await wait(`waiting for error ${code}`, () =>
        page.waitForFunction((c) => document.getElementById('error')?.dataset.code === c, code, { timeout: timeoutMs }),
      );
      return (await page.textContent('#error')) ?? '';
    },
    waitForStatus: (state, timeoutMs = 30_000) =>
      wait(`waiting for status ${state}`, () =>
        page.waitForFunction((s) => document.getElementById('status')?.dataset.state === s, state, { timeout: timeoutMs }),
      ),
    selfId: async () => (await page.textContent('#self-id')) ?? '',
  };
}
