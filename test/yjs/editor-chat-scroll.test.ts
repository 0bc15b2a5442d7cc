/**
 * The editor demo's chat in headless Chromium: someone who scrolled the chat up to read
 * back stays where they are when a line comes (every line redrew the log and threw them
 * to the bottom), and a line of their own takes them to the bottom.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { roomHash } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();

const say = async (page: Page, text: string) => {
  await page.fill('#chat-input', text);
  await page.click('#chat-form button[type=submit]');
};
const shows = (page: Page, text: string) => page.waitForFunction((t) => document.getElementById('chat-log')!.textContent!.includes(t), text, { timeout: 30_000 });
const position = (page: Page) =>
  page.evaluate(() => {
    const log = document.getElementById('chat-log')!;
    return { top: log.scrollTop, fromBottom: log.scrollHeight - log.scrollTop - log.clientHeight, scrollable: log.scrollHeight > log.clientHeight };
  });

describe('editor demo chat scrolling', () => {
  it('keeps a reader who scrolled up where they are; one\'s own line is shown', async () => {
    const room = roomHash(`chat-scroll-${process.pid}`);
    const a = await editors.open(room);
    const b = await editors.open(room);
    for (let i = 0; i < 60; i++) await say(a.page, `line ${i}`);
    await shows(b.page, 'line 59');
    const start = await position(b.page);
    expect(start.scrollable).toBe(true);
    expect(start.fromBottom).toBeLessThanOrEqual(24);

    await b.page.evaluate(() => (document.getElementById('chat-log')!.scrollTop = 0));
    await say(a.page, 'a new line while b reads back');
    await shows(b.page, 'a new line while b reads back');
    expect((await position(b.page)).top).toBe(0);

    await say(b.page, 'my own answer');
    await shows(b.page, 'my own answer');
    expect((await position(b.page)).fromBottom).toBeLessThanOrEqual(24);
    expect([...a.errors, ...b.errors]).toEqual([]);
  }, 120_000);
});
