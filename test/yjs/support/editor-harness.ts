/**
 * What a file of editor-demo browser tests needs: Chromium, the demos' dev server and a
 * relay, started before its tests and stopped after them, with every page it opened.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { SignalingServer } from '../../../signaling/index.js';
import { launchChromium } from '../../support/browser.js';
import { startDevServer, startRelay, type Served } from '../../e2e/support/demo-servers.js';
import { type EditorPage, openEditor } from './editor-page.js';

export interface EditorHarness {
  /** A new person (browser context) on the editor page with this link `hash`; `beforeGoto` runs on the page first. */
  open(hash: string, beforeGoto?: (page: Page) => Promise<void>): Promise<EditorPage>;
  /** Stop the relay now (the pages go offline). */
  stopRelay(): Promise<void>;
  /** Stop the relay and start a new one on the same port (every page's relay connection drops; what the relay remembered is gone). */
  restartRelay(): Promise<void>;
}

/**
 * Registers the file's beforeAll/afterAll; call it at the top level of a test file.
 *
 * @example
 * ```ts
 * const editors = editorHarness();
 * it('...', async () => { const p = await editors.open(roomHash('r')); });
 * ```
 */
export function editorHarness(): EditorHarness {
  let browser: Browser;
  let dev: Served;
  let relay: SignalingServer | undefined;
  const pages: EditorPage[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
    relay = await startRelay();
    dev = await startDevServer();
  });
  afterAll(async () => {
    await Promise.allSettled(pages.map((p) => p.context.close()));
    await browser?.close();
    await relay?.close();
    await dev?.close();
  });
  return {
    async open(hash, beforeGoto) {
      if (!relay) throw new Error('the relay is stopped');
      const p = await openEditor(browser, { baseUrl: dev.url, relay: relay.address.url, hash, beforeGoto });
      pages.push(p);
      return p;
    },
    async stopRelay() {
      const r = relay;
      relay = undefined;
      await r?.close();
    },
    async restartRelay() {
      if (!relay) throw new Error('the relay is stopped');
      const port = relay.address.port;
      await this.stopRelay();
      relay = await startRelay(port);
    },
  };
}
