/**
 * The demos' landing page (demos/index.html) hands every demo link its relay in
 * `?relay=`. With none given, that is the page's host on the relay's port, in the scheme
 * the demos' own default uses (demos/shared/relay-url.ts): `wss://` on an https page. It
 * handed `ws://` there, which an https page may not open (mixed content), so every demo
 * opened from the landing page over https could not reach any relay. The https page is
 * served by intercepting its requests in Chromium and answering them from the Vite dev
 * server (no certificate needed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { startDevServer, type Served } from './support/demo-servers.js';

let browser: Browser;
let dev: Served;

beforeAll(async () => {
  browser = await launchChromium();
  dev = await startDevServer();
});

afterAll(async () => {
  await browser?.close();
  await dev?.close();
});

/** The `relay` each demo link on the landing page at `url` carries. */
async function relaysOfLinks(page: Page, url: string): Promise<string[]> {
  await page.goto(url);
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLAnchorElement>('a.demo')].every((a) => a.href.includes('relay=')));
  return page.$$eval('a.demo', (links) => links.map((a) => new URL((a as HTMLAnchorElement).href).searchParams.get('relay') ?? ''));
}

describe('demos landing page', () => {
  it('gives the demo links a wss:// relay on an https page and ws:// on http', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.route('https://demos.test/**', async (route) => {
      const { pathname, search } = new URL(route.request().url());
      const res = await fetch(new URL(`${pathname.slice(1)}${search}`, dev.url));
      await route.fulfill({ status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()) });
    });
    const overHttps = await relaysOfLinks(page, 'https://demos.test/');
    expect(overHttps).toHaveLength(4);
    for (const relay of overHttps) expect(relay).toBe('wss://demos.test:4444');

    const overHttp = await relaysOfLinks(page, dev.url);
    for (const relay of overHttp) expect(relay).toBe(`ws://${new URL(dev.url).hostname}:4444`);
    // A relay given to the landing page is passed on as it is.
    const given = await relaysOfLinks(page, `${dev.url}?relay=${encodeURIComponent('ws://10.0.0.5:9000')}`);
    for (const relay of given) expect(relay).toBe('ws://10.0.0.5:9000');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
