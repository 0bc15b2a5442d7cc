/**
 * The light-cycles demo on a phone (headless Chromium emulating a 360 px wide touch
 * screen) against a desktop page: the arena fits the screen, the on-screen pad shows (and
 * does not on the desktop), and the phone's player steers with the pad and with a swipe
 * on the arena (real touch events through DevTools), in a game both pages agree on. Its
 * Copy invite link shows the link when the page has no clipboard.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { game, gameServers } from './support/game-servers.js';

type Rider = { dir: number; next: number; alive: boolean } | undefined;
const servers = gameServers();
const DIRS = ['up', 'right', 'down', 'left'] as const;

/** Wait until the phone's rider is alive in play, and return it. */
async function riding(page: Page): Promise<NonNullable<Rider>> {
  await page.waitForFunction(() => {
    const g = (window as unknown as { __meshpartyGame: { phase(): string; rider(): Rider } }).__meshpartyGame;
    return g.phase() === 'play' && g.rider()?.alive === true;
  }, null, { timeout: 60_000 });
  return (await game<Rider>(page, 'rider'))!;
}

describe('light-cycles demo on a touch screen', () => {
  it('fits a phone, shows the pad only there, and steers with the pad and with swipes', async () => {
    const url = servers.url(`touch-${process.pid}`);
    const errors: string[] = [];
    const desktop = await (await servers.browser.newContext()).newPage();
    const phone = await (await servers.browser.newContext({ viewport: { width: 360, height: 780 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 })).newPage();
    // A phone opening the dev server by a LAN address (plain http) has no clipboard.
    await phone.addInitScript(() => {
      delete (Navigator.prototype as { clipboard?: unknown }).clipboard;
    });
    for (const p of [desktop, phone]) {
      p.on('pageerror', (e) => errors.push(e.message));
      await p.goto(url);
    }
    for (const p of [desktop, phone]) await p.waitForFunction(() => (window as any).__meshpartyGame?.peers() === 1, null, { timeout: 60_000 });
    // There, Copy invite link shows the link to copy by hand (it used to do nothing at all).
    const shown: string[] = [];
    phone.on('dialog', (d) => void (shown.push(d.defaultValue()), d.dismiss()));
    await phone.click('#share');
    await expect.poll(() => shown).toEqual([phone.url()]);
    for (const p of [desktop, phone]) await p.click('#ready');
    const host = (await game<boolean>(desktop, 'isHost')) ? desktop : phone;
    await host.waitForFunction(() => document.querySelectorAll('#lobby-list li.ready').length === 2, null, { timeout: 20_000 });
    await host.click('#start');
    for (const p of [desktop, phone]) await p.waitForFunction(() => (window as any).__meshpartyGame.status() === 'running', null, { timeout: 30_000 });

    // The arena fits the phone's width (no sideways scrolling); the pad shows there only.
    await phone.waitForSelector('#arena canvas');
    const fit = await phone.evaluate(() => ({
      canvas: document.querySelector('#arena canvas')!.getBoundingClientRect().width,
      scroll: document.documentElement.scrollWidth,
      width: innerWidth,
    }));
    // (Against the screen's 360 px: a mobile browser widens its layout to fit content that
    // overflows, zooming the page out, so innerWidth itself would grow with the canvas.)
    expect(fit).toEqual({ canvas: expect.any(Number), scroll: 360, width: 360 });
    expect(fit.canvas).toBeLessThanOrEqual(360);
    expect(await phone.isVisible('#pad')).toBe(true);
    expect(await desktop.isVisible('#pad')).toBe(false);

    // A tap on the pad turns the rider clockwise.
    let rider = await riding(phone);
    const right = DIRS[(rider.dir + 1) & 3]!;
    await phone.tap(`#pad [data-control=${right}]`);
    await expect.poll(async () => (await game<Rider>(phone, 'rider'))?.next, { timeout: 10_000 }).toBe((rider.dir + 1) & 3);

    // A swipe on the arena (touch events from DevTools) turns it again, the other way.
    const box = (await phone.locator('#arena canvas').boundingBox())!;
    const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
    const cdp = await phone.context().newCDPSession(phone);
    /** Swipe counter-clockwise; whether the rider took it (false: it crashed first, say on a loaded machine, and no longer rides). */
    const swipe = async (): Promise<boolean> => {
      const from = await riding(phone);
      const want = (from.next + 3) & 3; // counter-clockwise from where it is going
      const [dx, dy] = [[0, -60], [60, 0], [0, 60], [-60, 0]][want]!;
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: cx, y: cy }] });
      for (let k = 1; k <= 4; k++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: cx + (dx! * k) / 4, y: cy + (dy! * k) / 4 }] });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      const deadline = Date.now() + 10_000;
      for (;;) {
        const r = await game<Rider>(phone, 'rider');
        if (r?.next === want || r?.dir === want) return true;
        if (!r?.alive || Date.now() > deadline) return false;
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    let took = false;
    for (let attempt = 0; attempt < 3 && !took; attempt++) took = await swipe();
    expect(took).toBe(true);

    // Both pages stepped the same game.
    const f = Math.floor((await game<number>(desktop, 'frame')) / 10) * 10 - 10;
    await phone.waitForFunction((n) => (window as any).__meshpartyGame.frame() >= n, f, { timeout: 30_000 });
    const [a, b] = await Promise.all([desktop, phone].map((p) => p.evaluate((n) => (window as any).__meshpartyGame.hashAt(n), f)));
    expect(typeof a).toBe('number');
    expect(a).toBe(b);
    expect(errors).toEqual([]);
  }, 240_000);
});
