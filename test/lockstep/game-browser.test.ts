/**
 * The light-cycles demo in headless Chromium: two pages (separate browser contexts) from
 * a Vite dev server started here, one relay started here, WebRTC between the pages. Both
 * get ready in the lobby, the host starts, and they play in lockstep for 600+ frames
 * with equal state hashes while one of them steers; then a third page opens the link
 * mid-game, is admitted without the lobby and agrees with them. A page whose relay is
 * full says so while it keeps trying, and joins once there is room.
 */
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { createSignalingServer } from '../../signaling/index.js';
import { game, gameServers } from './support/game-servers.js';

const servers = gameServers();

describe('light-cycles demo in headless Chromium', () => {
  it('two pages play in lockstep for at least 600 frames with equal hashes; a third joins mid-game and agrees', async () => {
    const url = servers.url(`e2e-game-${process.pid}`);
    const pages: Page[] = [];
    const errors: string[] = [];
    for (let i = 0; i < 2; i++) {
      const page = await (await servers.browser.newContext()).newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(url);
      pages.push(page);
    }
    for (const p of pages) await p.waitForFunction(() => (window as any).__meshpartyGame?.peers() === 1, null, { timeout: 60_000 });

    for (const p of pages) await p.click('#ready');
    const hostIndex = (await game<boolean>(pages[0]!, 'isHost')) ? 0 : 1;
    const host = pages[hostIndex]!;
    await host.waitForFunction(() => !(document.querySelector('#start') as HTMLButtonElement).disabled, null, { timeout: 20_000 });
    // Both ready as seen by the host, then start.
    await host.waitForFunction(() => document.querySelectorAll('#lobby-list li.ready').length === 2, null, { timeout: 20_000 });
    await host.click('#start');
    for (const p of pages) await p.waitForFunction(() => (window as any).__meshpartyGame.status() === 'running', null, { timeout: 30_000 });
    await expect(pages[0]!.locator('#arena canvas').count()).resolves.toBe(1);

    // The non-host steers a little, so real inputs cross the mesh.
    const steer = pages[1 - hostIndex]!;
    for (const key of ['ArrowUp', 'ArrowRight', 'ArrowDown', 'ArrowLeft']) {
      await steer.keyboard.down(key);
      await steer.waitForTimeout(150);
      await steer.keyboard.up(key);
    }
    for (const p of pages) await p.waitForFunction(() => (window as any).__meshpartyGame.frame() >= 610, null, { timeout: 120_000 });

    let compared = 0;
    for (let f = 0; f <= 600; f += 10) {
      const [a, b] = await Promise.all(pages.map((p) => game<number | undefined>(p, 'hashAt', f)));
      expect([f, a]).toEqual([f, b]);
      expect(typeof a).toBe('number');
      compared++;
    }
    expect(compared).toBe(61);
    for (const p of pages) expect(await game<number>(p, 'desyncs')).toBe(0);
    expect(errors).toEqual([]);
    // The overlay shows the figures it promises.
    await expect(pages[0]!.textContent('#overlay')).resolves.toMatch(/input delay \d+ frames[\s\S]*stalls\s+\d+[\s\S]*RTT/);

    // A friend opens the link mid-game: admitted without the lobby, plays in agreement.
    const late = await (await servers.browser.newContext()).newPage();
    late.on('pageerror', (e) => errors.push(e.message));
    await late.goto(url);
    // Generous: on a loaded machine a third page running Phaser takes a while to load and connect.
    await late
      .waitForFunction(() => (window as any).__meshpartyGame?.status() === 'running', null, { timeout: 150_000 })
      .catch(async (err: Error) => {
        const seen = await late.evaluate(() => {
          const g = (window as any).__meshpartyGame;
          return g ? { status: g.status(), peers: g.peers(), frame: g.frame() } : 'no hook yet';
        });
        throw new Error(`late page not running: ${JSON.stringify(seen)}; ${err.message}`);
      });
    const from = Math.ceil((await game<number>(late, 'frame')) / 10) * 10;
    const until = from + 200;
    for (const p of [...pages, late]) await p.waitForFunction((f) => (window as any).__meshpartyGame.frame() >= f, until + 5, { timeout: 120_000 });
    for (let f = from; f <= until; f += 10) {
      const hs = await Promise.all([...pages, late].map((p) => game<number | undefined>(p, 'hashAt', f)));
      expect([f, ...hs]).toEqual([f, hs[0], hs[0], hs[0]]);
      expect(typeof hs[0]).toBe('number');
    }
    await expect(late.textContent('#scores')).resolves.toMatch(/\(you\)/);
    expect(errors).toEqual([]);
  }, 480_000);

  it('a page whose relay is full says so while it retries, and joins once the relay has room', async () => {
    const full = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: () => {}, maxConnections: 1 });
    const held = new WebSocket(full.address.url);
    try {
      await new Promise((res, rej) => (held.once('open', res), held.once('error', rej)));
      const page = await (await servers.browser.newContext()).newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(servers.url(`e2e-full-${process.pid}`, full.address.url));
      await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'relay full, retrying…', null, { timeout: 20_000 });
      expect(await page.getAttribute('#status', 'data-state')).toBe('connecting');
      held.close();
      await page.waitForFunction(() => (document.querySelector('#status') as HTMLElement).dataset.state === 'connected', null, { timeout: 30_000 });
      expect(await page.textContent('#status')).toBe(`room e2e-full-${process.pid}`);
      expect(errors).toEqual([]);
      await page.context().close();
    } finally {
      held.close();
      await full.close();
    }
  });
});
