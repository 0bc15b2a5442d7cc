/**
 * What a file of editor-demo tests with frozen pages needs: a freezable Chromium (see
 * test/support/freezable-chromium.ts), a relay and the editor demo built and served by
 * `vite preview`, started before its tests and stopped after them (not the dev server:
 * Chromium closes a frozen page's WebSockets, and Vite's dev client reloads the page when
 * its own socket comes back, which would hide what a thawed page does); pages opened as another person (a context of its own,
 * never frozen) or as a tab of the one person whose tabs can be frozen; and readings of a
 * page's peer count over time, kept in the page so a drop shorter than a poll is seen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { SignalingServer } from '../../../signaling/index.js';
import { launchFreezableChromium, type FreezableChromium } from '../../support/freezable-chromium.js';
import { buildDemos, startPreview, startRelay, type Served } from '../../e2e/support/demo-servers.js';
import type { EditorPage } from './editor-page.js';

export interface FrozenEditors {
  chromium(): FreezableChromium;
  /** Another person on the editor with this link hash (a context of its own: never frozen). */
  person(hash: string): Promise<EditorPage>;
  /** A tab of the freezable person (the default context: one IndexedDB, BroadcastChannel and Web Locks for all its tabs). */
  tab(hash: string, beforeGoto?: (page: Page) => Promise<void>): Promise<EditorPage>;
  /** Stop the relay (the pages go offline; pages opened after still point at it, and retry). */
  stopRelay(): Promise<void>;
}

/**
 * Registers the file's beforeAll/afterAll; call it at the top level of a test file.
 *
 * @example
 * ```ts
 * const editors = frozenEditors();
 * it('...', async () => { const a = await editors.tab(roomHash('r')); await editors.chromium().freeze(a.page); });
 * ```
 */
export function frozenEditors(): FrozenEditors {
  let chromium: FreezableChromium;
  let dev: Served;
  const outDir = mkdtempSync(join(tmpdir(), 'meshparty-frozen-editor-'));
  let relay: SignalingServer | undefined;
  let relayUrl = '';
  const opened: EditorPage[] = [];
  beforeAll(async () => {
    chromium = await launchFreezableChromium();
    relay = await startRelay();
    relayUrl = relay.address.url;
    await buildDemos(outDir, ['editor/index.html']);
    dev = await startPreview(outDir);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(opened.map((p) => (p.context === chromium.tabs ? p.page.close() : p.context.close())));
    await chromium?.close();
    await relay?.close();
    await dev?.close();
    rmSync(outDir, { recursive: true, force: true });
  });
  const open = async (context: BrowserContext, hash: string, beforeGoto?: (page: Page) => Promise<void>): Promise<EditorPage> => {
    const page = await context.newPage();
    const p: EditorPage = { context, page, errors: [] };
    opened.push(p);
    page.on('pageerror', (e) => p.errors.push(String(e.stack ?? e)));
    await beforeGoto?.(page);
    await page.goto(`${dev.url}editor/?relay=${encodeURIComponent(relayUrl)}${hash}`);
    await page.waitForSelector('.cm-content');
    return p;
  };
  return {
    chromium: () => chromium,
    person: async (hash) => open(await chromium.browser.newContext(), hash),
    tab: (hash, beforeGoto) => open(chromium.tabs, hash, beforeGoto),
    async stopRelay() {
      const r = relay;
      relay = undefined;
      await r?.close();
    },
  };
}

/** Start keeping, in the page, every peer count it shows from now on (see {@link peerCountsSeen}). */
export const watchPeerCount = (p: EditorPage): Promise<void> =>
  p.page.evaluate(() => {
    const el = document.getElementById('peer-count')!;
    const seen: string[] = [el.textContent ?? ''];
    (window as unknown as { peerCountsSeen: string[] }).peerCountsSeen = seen;
    new MutationObserver(() => {
      // Re-rendered on every status change: only a different count is news.
      if (el.textContent !== seen[seen.length - 1]) seen.push(el.textContent ?? '');
    }).observe(el, { childList: true, characterData: true, subtree: true });
  });

/** Every peer count the page showed since {@link watchPeerCount}. */
export const peerCountsSeen = (p: EditorPage): Promise<string[]> => p.page.evaluate(() => (window as unknown as { peerCountsSeen: string[] }).peerCountsSeen);

/**
 * Wait until the page shows `n` peers; resolves with how long that took. (Polled on a
 * timer: Playwright's default polls on animation frames, which a hidden page never gets.)
 */
export async function peersShown(p: EditorPage, n: number, timeout = 30_000): Promise<number> {
  const from = Date.now();
  await p.page.waitForFunction((want) => document.getElementById('peer-count')?.textContent === want, `${n} ${n === 1 ? 'peer' : 'peers'}`, { timeout, polling: 100 });
  return Date.now() - from;
}

/** Wait until the page's document contains `part`; resolves with how long that took. */
export async function hasText(p: EditorPage, part: string, timeout = 30_000): Promise<number> {
  const from = Date.now();
  await p.page.waitForFunction((want) => (window as unknown as { meshpartyEditor: { text(): string } }).meshpartyEditor.text().includes(want), part, { timeout, polling: 100 });
  return Date.now() - from;
}

/** Append `text` to the document through the page's Y.Doc (works in a hidden page, where typing needs focus). */
export const appendText = (p: EditorPage, text: string): Promise<void> =>
  p.page.evaluate((t) => {
    const yText = (window as unknown as { meshpartyEditor: { doc: { getText(n: string): { length: number; insert(i: number, s: string): void } } } }).meshpartyEditor.doc.getText('text');
    yText.insert(yText.length, t);
  }, text);

/** The presence list (names, sorted) and the names on the remote cursors the page draws. */
export const presenceOf = (p: EditorPage): Promise<{ listed: string[]; cursors: string[] }> =>
  p.page.evaluate(() => ({
    listed: [...document.querySelectorAll('#presence li')].map((li) => li.textContent ?? '').sort(),
    cursors: [...document.querySelectorAll('.cm-ySelectionInfo')].map((c) => c.textContent ?? '').sort(),
  }));
