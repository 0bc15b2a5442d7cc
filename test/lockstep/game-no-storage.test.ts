/**
 * The light-cycles demo in a browser that lets the site keep no data ("block all cookies /
 * site data"): reading `localStorage` throws a SecurityError there. The page read the
 * remembered name at its top level, so it stopped before joining: a blank lobby, for
 * good. It must join, show the others, and pass a rename on (only not remember it).
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { blockSiteData } from '../support/block-site-data.js';
import { gameServers } from './support/game-servers.js';

const servers = gameServers();

describe('light-cycles demo: a browser that keeps no site data', () => {
  it('joins the lobby, sees the other page, and its rename reaches it, with no page error', async () => {
    const url = servers.url(`no-storage-${process.pid}`);
    const errors: string[] = [];
    const open = async (block: boolean): Promise<Page> => {
      const page = await (await servers.browser.newContext()).newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      if (block) await blockSiteData(page);
      await page.goto(url);
      return page;
    };
    const other = await open(false);
    const locked = await open(true);
    // The simulated block is in place.
    expect(await locked.evaluate(() => {
      try {
        return typeof localStorage;
      } catch (err) {
        return (err as DOMException).name;
      }
    })).toBe('SecurityError');
    for (const p of [other, locked]) await p.waitForFunction(() => (window as any).__meshpartyGame?.peers() === 1, null, { timeout: 60_000 });
    expect(await locked.inputValue('#name')).toMatch(/^Rider-/);

    await locked.fill('#name', 'Lee');
    await locked.press('#name', 'Enter');
    await other.waitForFunction(() => [...document.querySelectorAll('#lobby-list li')].some((li) => li.textContent?.startsWith('Lee')), null, { timeout: 20_000 });
    expect(errors).toEqual([]);
  }, 120_000);
});
