/**
 * Headless Chromium whose pages can be frozen for real, as a phone or Chrome's memory and
 * energy savers freeze a background tab: `Page.setWebLifecycleState` 'frozen' stops the
 * page's script, timers and tasks (it gets `visibilitychange` to hidden and `freeze`), and
 * 'active' lets it run again, still hidden, so its timers fire at most once a second, as
 * a background tab's do, until it is brought to the front.
 *
 * Chromium ignores 'frozen' for a visible page, and a page Playwright opens stays visible:
 * Playwright turns focus emulation on for each of its pages, and that holds the page as
 * if captured (visible) whatever DevTools says. Only the default context of a browser
 * Playwright connects to with `noDefaults` is left alone, so this starts Chromium itself
 * with a DevTools port and connects over CDP: pages of {@link FreezableChromium.tabs}
 * (tabs of one person) can be frozen; pages of `browser.newContext()` (other people)
 * stay visible and running.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureDebianPackage } from './system-package.js';
import { CHROMIUM_FLAGS } from './browser.js';

export interface FreezableChromium {
  browser: Browser;
  /** The browser's default context: its pages can be frozen and hidden. */
  tabs: BrowserContext;
  /** Freeze `page` (a page of `tabs`): hidden, no script, timer or task runs until {@link thaw}. */
  freeze(page: Page): Promise<void>;
  /** Let a frozen page run again; it stays hidden (timers at most once a second) until {@link show}. */
  thaw(page: Page): Promise<void>;
  /** Bring `page` to the front: visible, timers on time. */
  show(page: Page): Promise<void>;
  /** Close the connection, stop Chromium and remove its profile. */
  close(): Promise<void>;
}

/**
 * Start Debian's Chromium headless with a DevTools port on loopback and connect to it.
 *
 * @example
 * ```ts
 * const c = await launchFreezableChromium();
 * const page = await c.tabs.newPage();
 * await c.freeze(page); // document.visibilityState is 'hidden'; nothing runs
 * await c.thaw(page);
 * await c.close();
 * ```
 */
export async function launchFreezableChromium(): Promise<FreezableChromium> {
  const executable = ensureDebianPackage('/usr/bin/chromium', 'chromium');
  const profile = mkdtempSync(join(tmpdir(), 'meshparty-freezable-'));
  const proc = spawn(executable, ['--headless', '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', `--user-data-dir=${profile}`, ...CHROMIUM_FLAGS, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // A process group of its own, so a stop kills its helper processes (renderers, GPU,
    // crash handler) too: killed alone, they lived on writing into the profile, whose
    // removal then failed with ENOTEMPTY (a fresh-clone CI run).
    detached: true,
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  // Chromium started here would outlive a test process that exits without close() (one
  // Playwright launches goes with its pipe): kill it on exit (a kill by signal still leaks it).
  const kill = () => {
    try {
      process.kill(-proc.pid!, 'SIGKILL'); // the whole group, which outlives its leader's exit
    } catch {
      // (already gone)
    }
  };
  process.once('exit', kill);
  const stop = async () => {
    process.off('exit', kill);
    kill();
    await exited;
    // (Its helpers take a moment to die after the kill: rmSync retries ENOTEMPTY and EBUSY.)
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let said = '';
      const timer = setTimeout(() => reject(new Error(`chromium gave no DevTools endpoint in 30 s: ${said.slice(-500)}`)), 30_000);
      proc.stderr.on('data', (d: Buffer) => {
        said += d.toString();
        const m = /DevTools listening on (ws:\S+)/.exec(said);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`chromium exited (${code}) before its DevTools endpoint: ${said.slice(-500)}`));
      });
    });
    const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true, isLocal: true });
    const tabs = browser.contexts()[0]!;
    const lifecycle = async (page: Page, state: 'frozen' | 'active') => {
      const cdp = await tabs.newCDPSession(page);
      try {
        await cdp.send('Page.setWebLifecycleState', { state });
      } finally {
        await cdp.detach();
      }
    };
    return {
      browser,
      tabs,
      async freeze(page) {
        await lifecycle(page, 'frozen');
        // Chromium takes 'frozen' silently and does nothing for a page held visible (one of
        // a context Playwright opened): say so rather than test a page that runs on.
        // (DevTools still evaluates in a frozen page.)
        if ((await page.evaluate(() => document.visibilityState)) !== 'hidden') throw new Error('the page is still visible: only pages of `tabs` can be frozen');
      },
      thaw: (page) => lifecycle(page, 'active'),
      show: (page) => page.bringToFront(),
      async close() {
        await browser.close().catch(() => {});
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
