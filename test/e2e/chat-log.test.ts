/**
 * The chat demo's log in headless Chromium: someone who scrolled up to read back stays
 * where they are when a new line comes (every line threw them to the bottom), someone at
 * the bottom follows the new lines, and a line of their own always takes them to it.
 * A peer's name is shown so that it cannot pass for someone else (display-name.ts).
 */
import { describe, expect, it } from 'vitest';
import { chatHarness } from './support/chat-harness.js';
import type { ChatPage } from './support/chat-page.js';

const chats = chatHarness();

/** How far (px) the log is from its bottom, and its scrollTop. */
const logPosition = (p: ChatPage) =>
  p.page.evaluate(() => {
    const log = document.getElementById('log')!;
    return { fromBottom: log.scrollHeight - log.scrollTop - log.clientHeight, top: log.scrollTop, scrollable: log.scrollHeight > log.clientHeight };
  });

describe('chat demo log scrolling', () => {
  it('keeps a reader who scrolled up where they are, follows one at the bottom, and shows one\'s own line', async () => {
    const room = `chat-scroll-${process.pid}`;
    const [a, b] = [await chats.open(room), await chats.open(room)];
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

  it('shows a name that turns itself around or claims "(you)" as plain text', async () => {
    const room = `chat-names-${process.pid}`;
    const hostile = await chats.open('');
    await hostile.page.fill('#room', room);
    await hostile.page.fill('#name', '\u202eAda (you)');
    await hostile.page.click('#join-form button[type=submit]');
    const reader = await chats.open(room);
    await reader.waitForPeers(1);
    await hostile.say('hello');
    await reader.waitForMessage('hello');
    const shown = await reader.page.evaluate(() => ({
      peers: document.getElementById('peers')!.textContent!,
      line: [...document.querySelectorAll('#log li.chat')].map((li) => li.textContent).find((t) => t?.includes('hello')),
    }));
    expect(shown.line).toBe('Adahello');
    expect(shown.peers).toContain('Ada');
    expect(shown.peers).not.toMatch(/\u202e|\(you\)/);
  }, 120_000);
});
