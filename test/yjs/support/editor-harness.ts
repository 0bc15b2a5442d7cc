/**
 * What a file of editor-demo browser tests needs: Chromium, the demos' dev server and a
 * relay, started before its tests and stopped after them, with every page it opened.
 */
import type { Page } from 'playwright-core';
import { startRelay } from '../../e2e/support/demo-servers.js';
import { demoStack } from '../../e2e/support/demo-stack.js';
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
  const pages: EditorPage[] = [];
  const stack = demoStack(() => Promise.allSettled(pages.map((p) => p.context.close())));
  return {
    async open(hash, beforeGoto) {
      if (!stack.relay) throw new Error('the relay is stopped');
      const p = await openEditor(stack.browser, { baseUrl: stack.dev.url, relay: stack.relay.address.url, hash, beforeGoto });
      pages.push(p);
      return p;
    },
    async stopRelay() {
      const r = stack.relay;
      stack.relay = undefined;
      await r?.close();
    },
    async restartRelay() {
      if (!stack.relay) throw new Error('the relay is stopped');
      const port = stack.relay.address.port;
      await this.stopRelay();
      stack.relay = await startRelay(port);
    },
  };
}
