/**
 * The chat and editor demos opened while their relay is down (a port with nothing
 * listening), in headless Chromium: each says it cannot reach the relay as soon as its
 * first attempt fails, counting down to the next one, instead of "connecting…" through
 * joinRoom's five attempts (after which the chat gave up); and each gets in once a relay
 * is started on that port.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalingServer } from '../../signaling/index.js';
import { launchChromium } from '../support/browser.js';
import { freePort } from '../support/net.js';
import { openEditor, roomHash, statusOf, type EditorPage } from '../yjs/support/editor-page.js';
import { openChat, type ChatPage } from './support/chat-page.js';
import { startDevServer, startRelay, type Served } from './support/demo-servers.js';

let browser: Browser;
let dev: Served;
const relays: SignalingServer[] = [];
const chats: ChatPage[] = [];
const editors: EditorPage[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  dev = await startDevServer();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([...chats.map((p) => p.page.close()), ...editors.map((p) => p.context.close())]);
  await browser?.close();
  await Promise.allSettled(relays.map((r) => r.close()));
  await dev?.close();
});

/** A relay URL on 127.0.0.1 where nothing listens (yet): a port bound, then closed. */
async function downRelay(): Promise<{ port: number; url: string }> {
  const port = await freePort();
  return { port, url: `ws://127.0.0.1:${port}` };
}

/** Wait for the status badge's text to match `pattern`; returns it. */
async function statusMatching(page: Page, pattern: RegExp, timeoutMs: number): Promise<string> {
  await page.waitForFunction((p) => new RegExp(p).test(document.getElementById('status')?.textContent ?? ''), pattern.source, { timeout: timeoutMs });
  return (await page.textContent('#status')) ?? '';
}

describe('demos opened with the relay down', () => {
  it('the chat says it cannot reach the relay from the first failed attempt, counts down, and joins once the relay is up', async () => {
    const { port, url } = await downRelay();
    const chat = await openChat(browser, { baseUrl: dev.url, relay: url, room: `relay-down-${process.pid}` });
    chats.push(chat);
    // A refused connection fails at once: well within 10 s, where joinRoom's five
    // attempts took about 4 s before the page said anything (and then it gave up).
    expect(await statusMatching(chat.page, /^can't reach the relay, retrying in \d+ s…$/, 10_000)).toBeTruthy();
    expect(await chat.waitForError('relay-unreachable', 1000)).toContain(url);
    // Still retrying: a later failure's longer wait shows.
    await statusMatching(chat.page, /^can't reach the relay, retrying in [2-9] s…$/, 20_000);

    relays.push(await startRelay(port));
    await chat.waitForStatus('connected', 30_000);
    expect(await chat.page.isVisible('#error')).toBe(false);
    expect(await chat.page.isVisible('#room-view')).toBe(true);
    expect(chat.pageErrors).toEqual([]);
  }, 90_000);

  it('the editor says it cannot reach the relay from the first failed attempt, counts down, and joins once the relay is up', async () => {
    const { port, url } = await downRelay();
    const editor = await openEditor(browser, { baseUrl: dev.url, relay: url, hash: roomHash(`relay-down-${process.pid}`) });
    editors.push(editor);
    await statusMatching(editor.page, /^can't reach the relay, retrying in \d+ s… — edits are kept and will sync$/, 10_000);
    expect((await statusOf(editor)).state).toBe('offline');
    await statusMatching(editor.page, /^can't reach the relay, retrying in [2-9] s…/, 20_000);

    relays.push(await startRelay(port));
    await expect.poll(() => statusOf(editor), { timeout: 30_000, interval: 200 }).toMatchObject({ state: 'connected', text: 'connected' });
    expect(editor.errors).toEqual([]);
  }, 90_000);
});
