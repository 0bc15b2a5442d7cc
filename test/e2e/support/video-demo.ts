/**
 * The video demo for one e2e test file: Chromium, our relay and the Vite dev server
 * started before the file's tests (on free ports), and the pages it opened, the browser
 * and the servers closed after them.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { SignalingServer } from '../../../signaling/index.js';
import { launchChromium } from '../../support/browser.js';
import { startDevServer, startRelay, type Served } from './demo-servers.js';
import { openVideo, type VideoPage } from './video-page.js';

/** A page of the video demo, with our peer id once it joined. */
export type VideoPeer = VideoPage & { id: string };

/**
 * Registers the file's beforeAll and afterAll (call it at the top of the file);
 * `chromiumArgs` are added to Chromium's flags. `open` opens a page in `room`, runs
 * `beforeGoto` on it first if given, and resolves once the page has its peer id.
 */
export function videoDemo(room: string, chromiumArgs: string[] = []): { open(beforeGoto?: (page: Page) => Promise<void>): Promise<VideoPeer> } {
  let browser: Browser;
  let relay: SignalingServer;
  let dev: Served;
  const opened: VideoPage[] = [];

  beforeAll(async () => {
    [browser, relay, dev] = await Promise.all([launchChromium(chromiumArgs), startRelay(), startDevServer()]);
  });

  afterAll(async () => {
    await Promise.allSettled(opened.map((p) => p.page.close()));
    await browser?.close();
    await Promise.allSettled([relay?.close(), dev?.close()]);
  });

  return {
    async open(beforeGoto) {
      const p = await openVideo(browser, { baseUrl: dev.url, relay: relay.address.url, room, ...(beforeGoto ? { beforeGoto } : {}) });
      opened.push(p);
      return Object.assign(p, { id: await p.selfId() });
    },
  };
}
