/**
 * The video demo tells each peer the size at which it shows that peer's camera
 * (media.setViewSize from each tile's ResizeObserver), and the peer encodes for it no
 * larger, per connection: in headless Chromium with the fake 640×480 camera, a page whose
 * window is small receives b's camera scaled down while a page with a large window gets
 * it full size from the same sender at the same time; a page that hides b's tile gets no
 * more frames of it (b paused that encoding) while the other page keeps getting them, and
 * gets them again once it shows the tile; a page sent to the background gets none from
 * anyone. Sizes are the decoded frames at the receivers. A camera turned off (setMuted)
 * sends black, then nothing, until it is turned on again; a page that joins in the
 * background is sent nothing until it comes to the front.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { videoDemo } from './support/video-demo.js';
import type { VideoPage } from './support/video-page.js';

const demo = videoDemo(`e2e-video-view-size-${process.pid}`);
/** The first test's pages, for the next (b and c still show each other). */
let trio: (VideoPage & { id: string })[] = [];

/** Keeps every RTCPeerConnection the page makes in `__pcs` (to read a receiver's stats). */
async function keepConnections(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __pcs: RTCPeerConnection[] };
    w.__pcs = [];
    const Native = RTCPeerConnection;
    const Kept = function (this: unknown, config?: RTCConfiguration) {
      const pc = new Native(config);
      w.__pcs.push(pc);
      return pc;
    } as unknown as typeof RTCPeerConnection;
    Kept.prototype = Native.prototype;
    (window as unknown as { RTCPeerConnection: typeof RTCPeerConnection }).RTCPeerConnection = Kept;
  });
}

/**
 * A page in the background from the start: hidden, and its ResizeObservers held until
 * `__backInFront()` (a background tab draws nothing, so its observers do not run).
 */
async function inBackground(page: Page): Promise<void> {
  await keepConnections(page);
  await page.addInitScript(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    const Native = ResizeObserver;
    const held: (() => void)[] = [];
    let drawing = false;
    (window as unknown as { ResizeObserver: unknown }).ResizeObserver = class {
      readonly #native: ResizeObserver;
      #off = false;
      constructor(callback: ResizeObserverCallback) {
        this.#native = new Native(callback);
      }
      observe(target: Element) {
        if (drawing) this.#native.observe(target);
        else held.push(() => this.#off || this.#native.observe(target));
      }
      unobserve(target: Element) {
        this.#native.unobserve(target);
      }
      disconnect() {
        this.#off = true;
        this.#native.disconnect();
      }
    };
    (window as unknown as { __backInFront: () => void }).__backInFront = () => {
      Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
      drawing = true;
      for (const start of held.splice(0)) start();
    };
  });
}

function open(beforeGoto: (page: Page) => Promise<void> = keepConnections): Promise<VideoPage & { id: string }> {
  return demo.open(beforeGoto);
}

/** The size of the frames `page` decodes of `peer`'s camera now (its tile's video). */
const frameSize = (p: VideoPage, peer: string) =>
  p.page.$eval(`#tiles .tile[data-peer-id="${peer}"][data-label="camera"] video`, (v: HTMLVideoElement) => ({ width: v.videoWidth, height: v.videoHeight }));

/** Video frames `page` has received of `peer`'s camera (inbound-rtp of the receiver of its track); -1 with no such receiver. */
const framesReceived = (p: VideoPage, peer: string) =>
  p.page.evaluate(async (who) => {
    const video = document.querySelector<HTMLVideoElement>(`#tiles .tile[data-peer-id="${who}"][data-label="camera"] video`);
    const track = (video?.srcObject as MediaStream | null)?.getVideoTracks()[0];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      const receiver = pc.getReceivers().find((r) => r.track === track);
      if (!receiver) continue;
      // No inbound-rtp yet: not one packet came (paused before the first frame).
      let frames = 0;
      (await receiver.getStats()).forEach((s: { type: string; framesReceived?: number }) => {
        if (s.type === 'inbound-rtp') frames = s.framesReceived ?? 0;
      });
      return frames;
    }
    return -1;
  }, peer);

/** Hide or show `peer`'s camera tile on `page`, as an app collapsing a tile would (display: none). */
const setTileHidden = (p: VideoPage, peer: string, hidden: boolean) =>
  p.page.$eval(`#tiles .tile[data-peer-id="${peer}"][data-label="camera"]`, (t: HTMLElement, h) => void (t.style.display = h ? 'none' : ''), hidden);

describe('video demo view sizes', () => {
  it('a small window gets a peer’s camera scaled down while a large one gets it full size; a hidden tile or page pauses it for that page only', async () => {
    const [a, b, c] = (trio = await Promise.all([open(), open(), open()])) as [VideoPage & { id: string }, VideoPage & { id: string }, VideoPage & { id: string }];
    await Promise.all([a.waitForRemoteTiles([{ peerId: b.id, label: 'camera' }, { peerId: c.id, label: 'camera' }]), c.waitForRemoteTiles([{ peerId: a.id, label: 'camera' }, { peerId: b.id, label: 'camera' }])]);
    await a.page.setViewportSize({ width: 360, height: 320 });
    await c.page.setViewportSize({ width: 1400, height: 1000 });
    const tileAtA = await a.page.$eval(`#tiles .tile[data-peer-id="${b.id}"] video`, (v) => v.getBoundingClientRect().width);
    // a shows b's camera ~100 px wide: b encodes it for a at a 640/113 scale or so.
    await waitFor(async () => (await frameSize(a, b.id)).width <= 160, `b's camera small at a (tile ${tileAtA} px)`, 20_000, 200);
    const small = await frameSize(a, b.id);
    const large = await frameSize(c, b.id);
    expect(small.width, `at a ${JSON.stringify(small)}, at c ${JSON.stringify(large)}`).toBeLessThanOrEqual(160);
    expect(small.width).toBeGreaterThan(0);
    // c shows it ~600 px wide: full size (640, or what CPU adaptation leaves on a loaded machine).
    expect(large.width, `at a ${JSON.stringify(small)}, at c ${JSON.stringify(large)}`).toBeGreaterThanOrEqual(320);

    // c hides b's tile: b stops sending to c; a keeps getting frames.
    await setTileHidden(c, b.id, true);
    let still = { c: -1, a: 0 };
    await waitFor(
      async () => {
        const before = { c: await framesReceived(c, b.id), a: await framesReceived(a, b.id) };
        await new Promise((r) => setTimeout(r, 1000));
        const after = { c: await framesReceived(c, b.id), a: await framesReceived(a, b.id) };
        still = { c: after.c - before.c, a: after.a - before.a };
        return before.c >= 0 && still.c === 0;
      },
      "b's frames to c stopping",
      20_000,
      0,
    );
    // Over the same second a got a good part of b's ~30 frames a second.
    expect(still.a, JSON.stringify(still)).toBeGreaterThan(10);
    // Shown again: the frames come back.
    const paused = await framesReceived(c, b.id);
    await setTileHidden(c, b.id, false);
    await waitFor(async () => (await framesReceived(c, b.id)) > paused + 10, "b's frames at c again", 20_000, 200);

    // a's page goes to the background (visibilitychange, as when its tab is switched away):
    // b and c both stop sending to a; c still gets b's frames.
    await a.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    let quiet = { ab: -1, ac: -1, cb: 0 };
    await waitFor(
      async () => {
        const before = { ab: await framesReceived(a, b.id), ac: await framesReceived(a, c.id), cb: await framesReceived(c, b.id) };
        await new Promise((r) => setTimeout(r, 1000));
        const after = { ab: await framesReceived(a, b.id), ac: await framesReceived(a, c.id), cb: await framesReceived(c, b.id) };
        quiet = { ab: after.ab - before.ab, ac: after.ac - before.ac, cb: after.cb - before.cb };
        return quiet.ab === 0 && quiet.ac === 0;
      },
      'b and c pausing their frames to a hidden page',
      20_000,
      0,
    );
    expect(quiet.cb, JSON.stringify(quiet)).toBeGreaterThan(10);
    for (const p of [a, b, c]) expect(p.pageErrors).toEqual([]);
  }, 120_000);

  it('camera off sends black, then no frames at all until it is on again', async () => {
    const [, b, c] = trio as [VideoPage & { id: string }, VideoPage & { id: string }, VideoPage & { id: string }];
    expect(b && c, 'the first test opened the pages').toBeTruthy();
    await waitFor(async () => (await c.tileBrightness(b.id, 'camera')) > 20, "b's camera bright at c", 20_000, 200);
    await b.page.click('#camera');
    // Black reaches c first (a page that ignores `muted` shows black, not b frozen)...
    await waitFor(async () => (await c.tileBrightness(b.id, 'camera')) < 5, "b's tile black at c", 20_000, 100);
    // ...then b stops sending: no frame over a whole second.
    let still = -1;
    await waitFor(
      async () => {
        const before = await framesReceived(c, b.id);
        await new Promise((r) => setTimeout(r, 1000));
        still = (await framesReceived(c, b.id)) - before;
        return before >= 0 && still === 0;
      },
      "b's frames to c stopping while its camera is off",
      20_000,
      0,
    );
    expect(await c.tileBrightness(b.id, 'camera')).toBeLessThan(5);
    const paused = await framesReceived(c, b.id);
    await b.page.click('#camera');
    await waitFor(async () => (await framesReceived(c, b.id)) > paused + 10, "b's frames at c again", 20_000, 200);
    await waitFor(async () => (await c.tileBrightness(b.id, 'camera')) > 20, "b's picture back at c", 20_000, 200);
    for (const p of [b, c]) expect(p.pageErrors).toEqual([]);
  }, 90_000);

  it('a page that joins in the background gets no frames until it is in front, then gets them', async () => {
    const [, b] = trio as [VideoPage & { id: string }, VideoPage & { id: string }];
    expect(b, 'the first test opened the pages').toBeTruthy();
    const d = await open(inBackground);
    await d.page.waitForSelector(`#tiles .tile[data-peer-id="${b.id}"][data-label="camera"] video`, { state: 'attached', timeout: 30_000 });
    // Its tile of b came while it was hidden: b pauses it for d (a frame or two may come first).
    let still = -1;
    await waitFor(
      async () => {
        const before = await framesReceived(d, b.id);
        await new Promise((r) => setTimeout(r, 1000));
        still = (await framesReceived(d, b.id)) - before;
        return before >= 0 && still === 0;
      },
      "b's frames to a page in the background stopping",
      20_000,
      0,
    );
    const paused = await framesReceived(d, b.id);
    await d.page.evaluate(() => (window as unknown as { __backInFront: () => void }).__backInFront());
    await waitFor(async () => (await framesReceived(d, b.id)) > paused + 10, "b's frames at d once it is in front", 20_000, 200);
    expect(d.pageErrors).toEqual([]);
  }, 90_000);
});
