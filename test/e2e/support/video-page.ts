/**
 * Drives one tab of the video demo (demos/video) in Chromium through what a user sees:
 * the tiles (peer, label, a video that really plays), the buttons, the banners. Checks
 * run inside the page and are waited on, never slept on.
 */
import type { Browser, Page } from 'playwright-core';
import { watchPageErrors } from './page-errors.js';

/** A remote tile expected on a page: whose stream it is, and its label. */
export interface ExpectedTile {
  peerId: string;
  label: string;
}

export interface VideoPage {
  page: Page;
  /** Uncaught exceptions in the page (must stay empty). */
  pageErrors: string[];
  /** Console messages of type `error`, for failure messages. */
  consoleErrors: string[];
  /** Our peer id, once the page has joined. */
  selfId(): Promise<string>;
  /**
   * Wait until the remote tiles are exactly `expected` (any order), each captioned with
   * its peer and label, each video playing: frames decoded (videoWidth > 0) and its time
   * moving on from when this wait began.
   */
  waitForRemoteTiles(expected: ExpectedTile[], timeoutMs?: number): Promise<void>;
  /** Mean brightness (0–255) of the remote tile of `peerId` labelled `label`, drawn small. */
  tileBrightness(peerId: string, label: string): Promise<number>;
  /** Wait until banner `#id` shows `code`; resolves with its text. */
  waitForBanner(id: 'error' | 'camera-error' | 'screen-error', code: string, timeoutMs?: number): Promise<string>;
}

export async function openVideo(
  browser: Browser,
  o: { baseUrl: string; relay: string; room: string; beforeGoto?: (page: Page) => Promise<void> },
): Promise<VideoPage> {
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  await o.beforeGoto?.(page);
  const { pageErrors, consoleErrors, describe: errorsText } = watchPageErrors(page);
  await page.goto(`${o.baseUrl}video/?relay=${encodeURIComponent(o.relay)}#${new URLSearchParams({ room: o.room })}`);

  const wait = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      const seen = await page
        .evaluate(() => [...document.querySelectorAll<HTMLElement>('#tiles .tile')].map((t) => `${t.dataset.peerId}/${t.dataset.label} w=${t.querySelector('video')?.videoWidth} t=${t.querySelector('video')?.currentTime.toFixed(2)}`))
        .catch(() => ['(page gone)']);
      throw new Error(`${what}: ${String(err)}\ntiles: ${seen.join(', ') || 'none'}\n${errorsText()}`);
    }
  };

  return {
    page,
    pageErrors,
    consoleErrors,
    selfId: () =>
      wait('waiting for our peer id', async () => {
        const id = await page.waitForFunction(() => (document.getElementById('self-id')?.textContent ?? '').replace('–', ''), null, { timeout: 30_000, polling: 100 });
        return (await id.jsonValue()) as string;
      }),
    waitForRemoteTiles: (expected, timeoutMs = 30_000) =>
      wait(`waiting for remote tiles ${JSON.stringify(expected)}`, async () => {
        // Where each video's clock stood when this wait began: "playing" means it moved on.
        await page.evaluate(() => ((window as unknown as { __startTimes: WeakMap<object, number> }).__startTimes = new WeakMap()));
        await page.waitForFunction(
          (want: ExpectedTile[]) => {
            const starts = (window as unknown as { __startTimes: WeakMap<object, number> }).__startTimes;
            const tiles = [...document.querySelectorAll<HTMLElement>('#tiles .tile:not([data-self])')];
            const key = (t: ExpectedTile) => `${t.peerId}/${t.label}`;
            const have = tiles.map((t) => key({ peerId: t.dataset.peerId ?? '', label: t.dataset.label ?? '' })).sort();
            if (have.join('\n') !== want.map(key).sort().join('\n')) return false;
            return tiles.every((t) => {
              const caption = t.querySelector('figcaption')?.textContent ?? '';
              if (!caption.includes(t.dataset.peerId!.slice(0, 8)) || !caption.includes(t.dataset.label!)) return false;
              const v = t.querySelector('video');
              if (!v || v.videoWidth === 0 || v.paused) return false;
              if (!starts.has(v)) starts.set(v, v.currentTime);
              return v.currentTime > starts.get(v)! + 0.2;
            });
          },
          expected,
          { timeout: timeoutMs, polling: 100 },
        );
      }),
    tileBrightness: (peerId, label) =>
      page.evaluate(
        ([p, l]) => {
          const v = document.querySelector<HTMLVideoElement>(`#tiles .tile:not([data-self])[data-peer-id="${p}"][data-label="${l}"] video`);
          if (!v || v.videoWidth === 0) return -1;
          const c = document.createElement('canvas');
          Object.assign(c, { width: 32, height: 24 });
          const g = c.getContext('2d', { willReadFrequently: true })!;
          g.drawImage(v, 0, 0, 32, 24);
          const px = g.getImageData(0, 0, 32, 24).data;
          let sum = 0;
          for (let i = 0; i < px.length; i += 4) sum += (px[i]! + px[i + 1]! + px[i + 2]!) / 3;
          return sum / (px.length / 4);
        },
        [peerId, label] as const,
      ),
    waitForBanner: (id, code, timeoutMs = 20_000) =>
      wait(`waiting for #${id} to show ${code}`, async () => {
        await page.waitForFunction(([i, c]) => { const el = document.getElementById(i); return !!el && !el.hidden && el.dataset.code === c; }, [id, code] as const, { timeout: timeoutMs, polling: 100 });
        return (await page.textContent(`#${id}`)) ?? '';
      }),
  };
}
