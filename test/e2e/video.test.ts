/**
 * The video demo (demos/video) in headless Chromium with its fake camera and mic, over
 * our relay and the Vite dev server, both started here on free ports: pages in one room
 * each show every other page's camera as a tile whose video really plays, labelled with
 * its peer and label; the camera toggle reaches the others (black, then picture again)
 * without losing the tile; a screen share comes and goes; a page that closes loses its
 * tile everywhere; a late joiner gets everyone's; a page whose camera is refused says so
 * and still watches the others.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { videoDemo } from './support/video-demo.js';
import type { ExpectedTile, VideoPage } from './support/video-page.js';

const { open } = videoDemo(`e2e-video-${process.pid}`);

const cameras = (...pages: { id: string }[]): ExpectedTile[] => pages.map((p) => ({ peerId: p.id, label: 'camera' }));

/** A getUserMedia that refuses, as when the person clicks "Block". */
async function refuseCamera(page: Page): Promise<void> {
  await page.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
}

describe('video demo', () => {
  let a: VideoPage & { id: string };
  let b: VideoPage & { id: string };
  let c: VideoPage & { id: string };
  let d: VideoPage & { id: string };

  it('three pages in a room: each plays the two others’ cameras, its own tile muted', async () => {
    [a, b, c] = await Promise.all([open(), open(), open()]);
    await Promise.all([a.waitForRemoteTiles(cameras(b, c)), b.waitForRemoteTiles(cameras(a, c)), c.waitForRemoteTiles(cameras(a, b))]);
    for (const p of [a, b, c]) {
      expect(await p.page.textContent('#peer-count')).toBe('2');
      expect(await p.page.getAttribute('#status', 'data-state')).toBe('connected');
      // Our own camera, muted here: no echo of ourselves.
      expect(await p.page.$eval('#tiles .tile[data-self][data-label="camera"] video', (v: HTMLVideoElement) => v.muted && v.videoWidth > 0)).toBe(true);
      expect(await p.page.isVisible('#alone')).toBe(false);
    }
    // Laid out by layoutTiles: three tiles of one size that do not overlap.
    const boxes = await a.page.$$eval('#tiles .tile', (ts) => ts.map((t) => t.getBoundingClientRect().toJSON() as DOMRect));
    expect(boxes).toHaveLength(3);
    expect(new Set(boxes.map((r) => Math.round(r.width))).size).toBe(1);
    for (const [i, r] of boxes.entries()) for (const s of boxes.slice(i + 1)) expect(r.right <= s.left + 0.5 || s.right <= r.left + 0.5 || r.bottom <= s.top + 0.5 || s.bottom <= r.top + 0.5).toBe(true);
    // A larger window: laid out again, larger.
    const tileWidth = () => a.page.$eval('#tiles .tile', (t) => t.getBoundingClientRect().width);
    const before = await tileWidth();
    await a.page.setViewportSize({ width: 1280, height: 900 });
    await waitFor(async () => (await tileWidth()) > before + 50, 'tiles laid out again after a resize', 10_000, 100);
  }, 60_000);

  it('camera off sends black to the others, who mark the tile camera off and keep it; on again, the picture is back; the mic mutes and is marked', async () => {
    const bright = () => a.tileBrightness(b.id, 'camera');
    await waitFor(async () => (await bright()) > 20, 'b’s camera bright on a', 15_000, 100);
    await b.page.click('#camera');
    expect(await b.page.getAttribute('#camera', 'aria-pressed')).toBe('true');
    await waitFor(async () => (await bright()) < 5, 'b’s tile black on a', 15_000, 100);
    // a is told, and shows "camera off" rather than a black picture.
    const mutedOnA = () => a.page.getAttribute(`#tiles .tile:not([data-self])[data-peer-id="${b.id}"][data-label="camera"]`, 'data-muted');
    await waitFor(async () => (await mutedOnA()) === 'video', 'b’s tile marked camera off on a', 15_000, 100);
    await b.page.click('#camera');
    await waitFor(async () => (await bright()) > 20, 'b’s picture back on a', 15_000, 100);
    await waitFor(async () => (await mutedOnA()) === null, 'b’s camera-off mark gone on a', 15_000, 100);
    await Promise.all([a.waitForRemoteTiles(cameras(b, c)), c.waitForRemoteTiles(cameras(a, b))]);

    await b.page.click('#mic');
    expect(await b.page.getAttribute('#mic', 'aria-pressed')).toBe('true');
    expect(await b.page.$eval('#tiles .tile[data-self][data-label="camera"] video', (v: HTMLVideoElement) => (v.srcObject as MediaStream).getAudioTracks().map((t) => t.enabled))).toEqual([false]);
    await waitFor(async () => (await mutedOnA()) === 'audio', 'b’s tile marked mic off on a', 15_000, 100);
    await b.page.click('#mic');
    await waitFor(async () => (await mutedOnA()) === null, 'b’s mic-off mark gone on a', 15_000, 100);
    expect(b.pageErrors).toEqual([]);
  }, 60_000);

  it('a screen share shows as a tile on the others and goes when stopped; a refused picker is a message', async () => {
    await a.page.click('#screen');
    const withScreen = (...pages: { id: string }[]) => [...cameras(...pages), { peerId: a.id, label: 'screen' }];
    await Promise.all([b.waitForRemoteTiles(withScreen(a, c)), c.waitForRemoteTiles(withScreen(a, b))]);
    expect(await a.page.locator('#tiles .tile[data-self][data-label="screen"]').count()).toBe(1);
    await a.page.click('#screen');
    await Promise.all([b.waitForRemoteTiles(cameras(a, c)), c.waitForRemoteTiles(cameras(a, b))]);
    expect(await a.page.locator('#tiles .tile[data-self]').count()).toBe(1);

    await c.page.evaluate(() => {
      navigator.mediaDevices.getDisplayMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    });
    await c.page.click('#screen');
    expect(await c.waitForBanner('screen-error', 'screen-refused')).toMatch(/screen sharing was cancelled/i);
    expect(await c.page.isEnabled('#screen')).toBe(true);
    await c.waitForRemoteTiles(cameras(a, b));
    expect(a.pageErrors.concat(c.pageErrors)).toEqual([]);
  }, 60_000);

  it('a page that closes loses its tile on the others; a late joiner gets everyone’s', async () => {
    await c.page.close();
    await Promise.all([a.waitForRemoteTiles(cameras(b)), b.waitForRemoteTiles(cameras(a))]);
    d = await open();
    await Promise.all([d.waitForRemoteTiles(cameras(a, b)), a.waitForRemoteTiles(cameras(b, d)), b.waitForRemoteTiles(cameras(a, d))]);
  }, 60_000);

  it('a page whose camera is refused says so, shows no tile of its own, and still watches the others', async () => {
    const e = await open(refuseCamera);
    expect(await e.waitForBanner('camera-error', 'camera-refused')).toMatch(/refused.*you still see and hear them/i);
    await e.waitForRemoteTiles(cameras(a, b, d));
    expect(await e.page.locator('#tiles .tile[data-self]').count()).toBe(0);
    expect(await e.page.isDisabled('#camera')).toBe(true);
    expect(await e.page.isDisabled('#mic')).toBe(true);
    // It shares nothing: the others list it as a peer but show no tile for it.
    await waitFor(async () => (await a.page.textContent('#peer-count')) === '3', 'a counting e', 15_000, 100);
    await a.waitForRemoteTiles(cameras(b, d));
    for (const p of [a, b, d, e]) expect(p.pageErrors).toEqual([]);
  }, 60_000);

  it('a page with a mic and no camera is marked camera off on the others, not shown as a black tile', async () => {
    const f = await open(async (page) => {
      await page.addInitScript(() => {
        const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
        navigator.mediaDevices.getUserMedia = (c) => (c?.video ? Promise.reject(new DOMException('Requested device not found', 'NotFoundError')) : real(c));
      });
    });
    expect(await f.waitForBanner('camera-error', 'no-camera')).toMatch(/hear you but do not see you/);
    const mutedOnA = () => a.page.getAttribute(`#tiles .tile:not([data-self])[data-peer-id="${f.id}"][data-label="camera"]`, 'data-muted');
    await waitFor(async () => (await mutedOnA()) === 'video', 'f’s tile marked camera off on a', 15_000, 100);
    expect(f.pageErrors.concat(a.pageErrors)).toEqual([]);
    await f.page.close();
  }, 60_000);

  it('camera off after the room closed still turns the camera off, with no error', async () => {
    // pagehide destroys the share and leaves the room, as when the tab goes away.
    await d.page.evaluate(() => dispatchEvent(new Event('pagehide')));
    await waitFor(async () => (await d.page.getAttribute('#status', 'data-state')) === 'closed', 'd’s room closed', 15_000, 100);
    await d.page.click('#camera');
    const enabled = () => d.page.$eval('#tiles .tile[data-self][data-label="camera"] video', (v: HTMLVideoElement) => (v.srcObject as MediaStream).getVideoTracks().map((t) => t.enabled));
    expect(await enabled()).toEqual([false]);
    expect(d.pageErrors).toEqual([]);
  }, 60_000);

  it('a camera unplugged: its page says so and stops offering what is gone; the others mark it camera off, then drop it with the mic', async () => {
    /** Ends b's camera tracks of `kind` as the browser does when the device goes: readyState ended, then an `ended` event. */
    const unplug = (kind: 'audio' | 'video') =>
      b.page.evaluate((k) => {
        const video = document.querySelector<HTMLVideoElement>('#tiles .tile[data-self][data-label="camera"] video')!;
        for (const t of (video.srcObject as MediaStream).getTracks()) {
          if (t.kind !== k) continue;
          t.stop();
          t.dispatchEvent(new Event('ended'));
        }
      }, kind);
    const tileOnA = `#tiles .tile:not([data-self])[data-peer-id="${b.id}"][data-label="camera"]`;
    await unplug('video');
    await waitFor(async () => (await a.page.getAttribute(tileOnA, 'data-muted')) === 'video', 'b’s tile marked camera off on a', 15_000, 100);
    expect(await b.waitForBanner('camera-error', 'camera-ended')).toMatch(/camera stopped/i);
    expect(await b.page.isDisabled('#camera')).toBe(true);
    expect(await b.page.isEnabled('#mic')).toBe(true);

    await unplug('audio');
    await waitFor(async () => (await a.page.locator(tileOnA).count()) === 0, 'b’s tile gone on a', 15_000, 100);
    expect(await b.waitForBanner('camera-error', 'camera-ended')).toMatch(/microphone stopped/i);
    expect(await b.page.locator('#tiles .tile[data-self]').count()).toBe(0);
    expect(await b.page.isDisabled('#mic')).toBe(true);
    expect(a.pageErrors.concat(b.pageErrors)).toEqual([]);
  }, 60_000);
});
