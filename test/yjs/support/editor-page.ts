/**
 * Drives one tab of the editor demo (demos/editor) in Chromium: opening it on a room,
 * reading what it shows (text, status, presence, chat) and what its window exposes for
 * tests (`window.meshpartyEditor`). Each tab gets a browser context of its own, so its
 * own IndexedDB and localStorage, like a separate person.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';

export interface EditorPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page (must stay empty). */
  errors: string[];
}

/** The hash of a room link: `room=...` and, when given, `password=...`. */
export function roomHash(room: string, password?: string): string {
  return `#${new URLSearchParams({ room, ...(password === undefined ? {} : { password }) })}`;
}

/**
 * Open `editor/` under `baseUrl` with the relay in `?relay=` and `hash` (see
 * {@link roomHash}); `beforeGoto` runs on the page first (to install a fake clock, say).
 */
export async function openEditor(
  browser: Browser,
  o: { baseUrl: string; relay: string; hash: string; beforeGoto?: (page: Page) => Promise<void> },
): Promise<EditorPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e.stack ?? e)));
  await o.beforeGoto?.(page);
  await page.goto(`${o.baseUrl}editor/?relay=${encodeURIComponent(o.relay)}${o.hash}`);
  await page.waitForSelector('.cm-content');
  return { context, page, errors };
}

/** The text the editor shows, without the remote cursors' name labels drawn inside it. */
export const shownText = (p: EditorPage): Promise<string> =>
  p.page.evaluate(() => {
    const content = document.querySelector('.cm-content')!.cloneNode(true) as HTMLElement;
    content.querySelectorAll('.cm-ySelectionCaret').forEach((c) => c.remove());
    return [...content.querySelectorAll('.cm-line')].map((l) => (l.textContent ?? '').replace(/\u2060/g, '')).join('\n');
  });

/** The document's text (`meshpartyEditor.text()`). */
export const textOf = (p: EditorPage): Promise<string> =>
  p.page.evaluate(() => (window as unknown as { meshpartyEditor: { text(): string } }).meshpartyEditor.text());

/** The status badge: its `data-state` and its text. */
export const statusOf = (p: EditorPage): Promise<{ state: string; text: string }> =>
  p.page.evaluate(() => {
    const el = document.getElementById('status')!;
    return { state: el.dataset.state ?? '', text: el.textContent ?? '' };
  });

/** What the page shows beside the document: status, peer count, presence list, chat log. */
export interface Shown {
  room: string;
  loaded: boolean;
  text: string;
  peerCount: string;
  presence: string[];
  chat: string;
}

/**
 * A snapshot of what the page shows, or undefined while it is (re)loading. `loaded` is
 * true once the page's IndexedDB copy of the document has been read, so `text` is then
 * at least what was stored.
 */
export const shownNow = (p: EditorPage): Promise<Shown | undefined> =>
  p.page
    .evaluate(async () => {
      const editor = (window as unknown as { meshpartyEditor?: { text(): string; persisted: Promise<boolean> } }).meshpartyEditor;
      if (!editor) return undefined;
      const loaded = await Promise.race([editor.persisted, new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);
      return {
        room: new URLSearchParams(location.hash.slice(1)).get('room') ?? '',
        loaded,
        text: editor.text(),
        peerCount: document.getElementById('peer-count')?.textContent ?? '',
        presence: [...document.querySelectorAll('#presence li')].map((li) => li.textContent ?? '').sort(),
        chat: document.getElementById('chat-log')?.textContent ?? '',
      };
    })
    // The page may be between two documents (a reload); ask again.
    .catch(() => undefined);

/** Poll {@link shownNow} until `ok` holds; fails with the last snapshot. */
export async function waitUntilShown(p: EditorPage, what: string, ok: (s: Shown) => boolean, timeoutMs = 60_000): Promise<Shown> {
  const deadline = Date.now() + timeoutMs;
  let last: Shown | undefined;
  for (;;) {
    last = await shownNow(p);
    if (last !== undefined && ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; the page shows ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Click into the editor and type `text` at the end of the document. */
export async function typeAtEnd(p: EditorPage, text: string): Promise<void> {
  await p.page.click('.cm-content');
  await p.page.keyboard.press('Control+End');
  await p.page.keyboard.type(text, { delay: 5 });
}
