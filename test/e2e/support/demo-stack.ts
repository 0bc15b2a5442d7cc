/**
 * Chromium, a relay and the demos' dev server for one file of demo browser tests: started
 * before its tests and stopped after them, the pages first. The chat and editor harnesses
 * build on it.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import type { SignalingServer } from '../../../signaling/index.js';
import { launchChromium } from '../../support/browser.js';
import { startDevServer, startRelay, type Served } from './demo-servers.js';

/** What {@link demoStack} started (set once the file's beforeAll has run). */
export interface DemoStack {
  browser: Browser;
  dev: Served;
  /** The relay; a harness may stop it (undefined) or put another in its place. */
  relay: SignalingServer | undefined;
}

/**
 * Registers the file's beforeAll/afterAll; call it at the top level of a test file (or of
 * a harness called there). `closePages` runs first after the file.
 *
 * @example
 * ```ts
 * const pages: Page[] = [];
 * const stack = demoStack(() => Promise.allSettled(pages.map((p) => p.close())));
 * it('...', async () => { const page = await stack.browser.newPage(); pages.push(page); });
 * ```
 */
export function demoStack(closePages: () => Promise<unknown>): DemoStack {
  const stack = {} as DemoStack;
  beforeAll(async () => {
    stack.browser = await launchChromium();
    stack.relay = await startRelay();
    stack.dev = await startDevServer();
  });
  afterAll(async () => {
    await closePages();
    await stack.browser?.close();
    await stack.relay?.close();
    await stack.dev?.close();
  });
  return stack;
}
