/**
 * What a file of light-cycles demo browser tests needs: a relay, the demos' Vite dev
 * server and Chromium, started before its tests and stopped after them; and a way to call
 * the page's test hook (`window.__meshpartyGame`).
 */
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll } from 'vitest';
import { createSignalingServer, type SignalingServer } from '../../../signaling/index.js';
import { launchChromium } from '../../support/browser.js';

const repo = resolve(import.meta.dirname, '../../..');

export interface GameServers {
  browser: Browser;
  relay: SignalingServer;
  /** The dev server's base URL (ends with `/`). */
  base: string;
  /** The game page on `room`, through `relayUrl` (default: this file's relay). */
  url(room: string, relayUrl?: string): string;
}

/**
 * Registers the file's beforeAll/afterAll; call it at the top level of a test file. The
 * fields are set once beforeAll has run.
 *
 * @example
 * ```ts
 * const servers = gameServers();
 * it('...', async () => { const page = await (await servers.browser.newContext()).newPage(); await page.goto(servers.url('r')); });
 * ```
 */
export function gameServers(): GameServers {
  let vite: ViteDevServer | undefined;
  const s = {
    url: (room: string, relayUrl = s.relay.address.url) => `${s.base}game/?relay=${encodeURIComponent(relayUrl)}#room=${room}`,
  } as GameServers;
  beforeAll(async () => {
    s.relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: () => {} });
    vite = await createServer({ configFile: resolve(repo, 'vite.config.ts'), server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false }, logLevel: 'error' });
    await vite.listen();
    s.base = vite.resolvedUrls!.local[0]!;
    s.browser = await launchChromium();
  });
  afterAll(async () => {
    await s.browser?.close();
    await vite?.close();
    await s.relay?.close();
  });
  return s;
}

/** Call `window.__meshpartyGame[fn](arg)` in `page`. */
export const game = <T>(page: Page, fn: string, arg?: unknown): Promise<T> =>
  page.evaluate(([f, a]) => (window as unknown as { __meshpartyGame: Record<string, (x?: unknown) => unknown> }).__meshpartyGame[f as string]!(a) as T, [fn, arg] as const);
