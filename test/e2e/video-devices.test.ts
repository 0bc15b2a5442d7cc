/**
 * The video demo's camera and mic pickers (demos/video/device-picker.ts) in headless
 * Chromium with two fake cameras and its fake mics: a page that flips to its other camera
 * keeps its tile and track at the others, who see the other camera's picture, with no
 * session description set on any connection (no renegotiation, data or media); a page
 * joining after that gets the new camera; another mic is switched the same way. An
 * unplugged device is replaced from the list; with camera and mic both unplugged (the
 * stream no longer shared), picking one shares it again.
 *
 * Chromium's second fake camera (fake_device_1) is a Y16 depth camera whose frames no
 * video encoder takes (a replaceTrack to it, or a publish of it, sends nothing: checked
 * with a bare RTCPeerConnection pair), so on the switching page it is stood in for by a
 * canvas painted magenta, reporting that camera's deviceId and that it faces away from
 * the user (a phone's back camera). fake_device_0 paints green and says no facingMode.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { videoDemo } from './support/video-demo.js';
import type { ExpectedTile, VideoPage } from './support/video-page.js';

// The last value of the flag wins: two fake cameras instead of one.
const demo = videoDemo(`e2e-video-devices-${process.pid}`, ['--use-fake-device-for-media-stream=device-count=2']);

/** Counts every description set on any of the page's connections, in `__descriptions`. */
async function countDescriptions(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __descriptions: number };
    w.__descriptions = 0;
    const proto = RTCPeerConnection.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const name of ['setLocalDescription', 'setRemoteDescription']) {
      const set = proto[name]!;
      proto[name] = function (this: RTCPeerConnection, ...args: unknown[]) {
        w.__descriptions++;
        return set.apply(this, args);
      };
    }
  });
}

/** Opening fake_device_1 gives a magenta canvas that reports that camera's deviceId and facingMode 'environment' (see the top of this file). */
async function magentaSecondCamera(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const devices = navigator.mediaDevices;
    const open = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      const wanted = ((constraints?.video as MediaTrackConstraints | undefined)?.deviceId as { exact?: string } | undefined)?.exact;
      const second = (await devices.enumerateDevices()).find((d) => d.label === 'fake_device_1');
      if (wanted === undefined || wanted !== second?.deviceId) return open(constraints);
      const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 240 });
      const g = canvas.getContext('2d')!;
      let shade = 0;
      // Drawn anew each time, so the canvas keeps producing frames.
      const paint = () => {
        g.fillStyle = `rgb(230 ${(shade = 1 - shade)} 230)`;
        g.fillRect(0, 0, 320, 240);
      };
      paint();
      const timer = setInterval(paint, 50);
      const [track] = canvas.captureStream(20).getVideoTracks();
      const settings = track!.getSettings.bind(track);
      Object.defineProperty(track, 'getSettings', { value: () => ({ ...settings(), deviceId: wanted, facingMode: 'environment' }) });
      const stop = track!.stop.bind(track);
      Object.defineProperty(track, 'stop', { value: () => (clearInterval(timer), stop()) });
      return new MediaStream([track!]);
    };
  });
}

function open(): Promise<VideoPage & { id: string }> {
  return demo.open(async (page) => {
    await countDescriptions(page);
    await magentaSecondCamera(page);
  });
}

const cameras = (...pages: { id: string }[]): ExpectedTile[] => pages.map((p) => ({ peerId: p.id, label: 'camera' }));
const mirrored = (p: VideoPage) => p.page.$eval('#tiles .tile[data-self][data-label="camera"] video', (v) => v.classList.contains('mirrored'));
const descriptions = (p: VideoPage) => p.page.evaluate(() => (window as unknown as { __descriptions: number }).__descriptions);

/** Mean colour [r, g, b] of a camera tile (`peerId`'s on that page, or its own), drawn small. */
function tileColour(p: VideoPage, peerId: string | 'self'): Promise<number[]> {
  return p.page.evaluate((id) => {
    const which = id === 'self' ? '[data-self]' : `:not([data-self])[data-peer-id="${id}"]`;
    const v = document.querySelector<HTMLVideoElement>(`#tiles .tile${which}[data-label="camera"] video`);
    if (!v || v.videoWidth === 0) return [-1, -1, -1];
    const c = Object.assign(document.createElement('canvas'), { width: 32, height: 24 });
    const g = c.getContext('2d', { willReadFrequently: true })!;
    g.drawImage(v, 0, 0, 32, 24);
    const px = g.getImageData(0, 0, 32, 24).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < px.length; i += 4) for (const k of [0, 1, 2]) sum[k]! += px[i + k]!;
    return sum.map((s) => s / (px.length / 4));
  }, peerId);
}
const green = ([r, g]: number[]) => g! > 100 && g! > r! + 60;
const magenta = ([r, g, b]: number[]) => r! > 150 && b! > 150 && g! < 80;

/** The page's own camera stream's track of `kind`: its id and the device it comes from. */
function ownTrack(p: VideoPage, kind: 'audio' | 'video'): Promise<{ id: string; deviceId: string; state: string; count: number }> {
  return p.page.$eval(
    '#tiles .tile[data-self][data-label="camera"] video',
    (v: HTMLVideoElement, k) => {
      const tracks = (v.srcObject as MediaStream).getTracks().filter((t) => t.kind === k);
      return { id: tracks[0]!.id, deviceId: tracks[0]!.getSettings().deviceId ?? '', state: tracks[0]!.readyState, count: tracks.length };
    },
    kind,
  );
}

/** The remote camera tile of `peerId` on a page: its stream's id and its tracks' ids. */
function remoteTracks(p: VideoPage, peerId: string): Promise<{ stream: string; tracks: string[] }> {
  return p.page.$eval(`#tiles .tile:not([data-self])[data-peer-id="${peerId}"][data-label="camera"] video`, (v: HTMLVideoElement) => {
    const s = v.srcObject as MediaStream;
    return { stream: s.id, tracks: s.getTracks().map((t) => `${t.kind}:${t.id}`).sort() };
  });
}

describe('video demo: switching camera and mic', () => {
  let a: VideoPage & { id: string };
  let b: VideoPage & { id: string };

  it('Flip camera: the others keep the tile and its track and see the other camera, nothing renegotiated; a later page gets the new one', async () => {
    [a, b] = await Promise.all([open(), open()]);
    await Promise.all([a.waitForRemoteTiles(cameras(b)), b.waitForRemoteTiles(cameras(a))]);
    await waitFor(async () => (await a.page.locator('#camera-select option').count()) === 2, 'a lists two cameras', 15_000, 100);
    expect(await a.page.isVisible('#flip')).toBe(true);
    expect(await a.page.isVisible('#mic-select')).toBe(true);
    await waitFor(async () => green(await tileColour(b, a.id)), 'a’s green camera on b', 15_000, 100);
    const before = { old: await ownTrack(a, 'video'), onB: await remoteTracks(b, a.id), negotiated: [await descriptions(a), await descriptions(b)] };

    await a.page.click('#flip');
    await waitFor(async () => magenta(await tileColour(b, a.id)), 'a’s magenta camera on b', 15_000, 100);
    const now = await ownTrack(a, 'video');
    expect(now.deviceId).not.toBe(before.old.deviceId);
    expect(now.deviceId).toBe(await a.page.$eval('#camera-select', (s: HTMLSelectElement) => s.value));
    expect([now.state, now.count]).toEqual(['live', 1]);
    await waitFor(async () => magenta(await tileColour(a, 'self')), 'a’s own tile shows the magenta camera', 15_000, 100);
    expect(await mirrored(a)).toBe(false); // a back camera is not shown as a mirror
    // The same tile, stream and track on b, still playing; not one description set anywhere.
    expect(await remoteTracks(b, a.id)).toEqual(before.onB);
    await b.waitForRemoteTiles(cameras(a));
    expect([await descriptions(a), await descriptions(b)]).toEqual(before.negotiated);

    const c = await open();
    await c.waitForRemoteTiles(cameras(a, b));
    await waitFor(async () => magenta(await tileColour(c, a.id)), 'a’s magenta camera on the later page', 15_000, 100);
    expect(a.pageErrors.concat(b.pageErrors, c.pageErrors)).toEqual([]);
    await c.page.close();
    await Promise.all([a.waitForRemoteTiles(cameras(b)), b.waitForRemoteTiles(cameras(a))]);
  }, 90_000);

  it('another microphone: the others keep the track, nothing renegotiated; a muted mic stays muted', async () => {
    await a.page.click('#mic');
    await waitFor(async () => (await b.page.getAttribute(`#tiles .tile:not([data-self])[data-peer-id="${a.id}"]`, 'data-muted')) === 'audio', 'a’s mic marked off on b', 15_000, 100);
    const before = { old: await ownTrack(a, 'audio'), onB: await remoteTracks(b, a.id), negotiated: [await descriptions(a), await descriptions(b)] };
    const other = await a.page.$eval('#mic-select', (s: HTMLSelectElement) => [...s.options].find((o) => !o.selected)!.value);
    await a.page.selectOption('#mic-select', other);
    await waitFor(async () => (await ownTrack(a, 'audio')).id !== before.old.id, 'a’s mic switched', 15_000, 100);
    const now = await ownTrack(a, 'audio');
    expect([now.deviceId, now.state, now.count]).toEqual([other, 'live', 1]);
    expect(await a.page.$eval('#tiles .tile[data-self][data-label="camera"] video', (v: HTMLVideoElement) => (v.srcObject as MediaStream).getAudioTracks().map((t) => t.enabled))).toEqual([false]);
    expect(await remoteTracks(b, a.id)).toEqual(before.onB);
    expect(await b.page.getAttribute(`#tiles .tile:not([data-self])[data-peer-id="${a.id}"]`, 'data-muted')).toBe('audio');
    expect([await descriptions(a), await descriptions(b)]).toEqual(before.negotiated);
    expect(a.pageErrors.concat(b.pageErrors)).toEqual([]);
  }, 60_000);

  it('Flip again from the back camera: the front side does not open (no camera says it faces the user), so the next camera: green again, mirrored, nothing renegotiated', async () => {
    const negotiated = [await descriptions(a), await descriptions(b)];
    await a.page.click('#flip');
    await waitFor(async () => green(await tileColour(b, a.id)), 'a’s green camera back on b', 15_000, 100);
    expect(await mirrored(a)).toBe(true);
    expect(await a.page.isVisible('#camera-error')).toBe(false);
    expect([await descriptions(a), await descriptions(b)]).toEqual(negotiated);
    expect(a.pageErrors.concat(b.pageErrors)).toEqual([]);
  }, 60_000);

  it('an unplugged camera replaced from the list: the others unmark camera off and see the other camera; its button works again', async () => {
    const tileOnB = `#tiles .tile:not([data-self])[data-peer-id="${a.id}"][data-label="camera"]`;
    // Ended as the browser ends it when the device goes: readyState ended, then an `ended` event.
    await a.page.evaluate(() => {
      const video = document.querySelector<HTMLVideoElement>('#tiles .tile[data-self][data-label="camera"] video')!;
      for (const t of (video.srcObject as MediaStream).getVideoTracks()) {
        t.stop();
        t.dispatchEvent(new Event('ended'));
      }
    });
    await waitFor(async () => (await b.page.getAttribute(tileOnB, 'data-muted')) === 'audio video', 'a’s camera marked off on b (its mic was muted before)', 15_000, 100);
    expect(await a.waitForBanner('camera-error', 'camera-ended')).toMatch(/camera stopped/i);
    expect(await a.page.isDisabled('#camera')).toBe(true);
    const negotiated = [await descriptions(a), await descriptions(b)];

    expect(await a.waitForBanner('camera-error', 'camera-ended')).toMatch(/pick another from the list/i);
    // The ended camera is not offered as the one in use: even the only one left would be a change.
    await waitFor(async () => (await a.page.$eval('#camera-select', (s: HTMLSelectElement) => s.value)) === '', 'a’s list asks for a camera', 15_000, 100);
    const other = await a.page.$eval('#camera-select', (s: HTMLSelectElement) => [...s.options].find((o) => o.label === 'fake_device_1')!.value);
    await a.page.selectOption('#camera-select', other);
    await waitFor(async () => (await b.page.getAttribute(tileOnB, 'data-muted')) === 'audio', 'a’s camera unmarked on b', 15_000, 100);
    await waitFor(async () => magenta(await tileColour(b, a.id)), 'a’s magenta camera on b', 15_000, 100);
    expect(await a.page.isEnabled('#camera')).toBe(true);
    expect(await a.page.isVisible('#camera-error')).toBe(false);
    expect([await descriptions(a), await descriptions(b)]).toEqual(negotiated);
    expect(a.pageErrors.concat(b.pageErrors)).toEqual([]);
  }, 60_000);

  it('camera and mic both unplugged, then a camera picked: the stream is shared again, the others see the tile back (mic off); a mic picked and unmuted: unmarked', async () => {
    const tileOnB = `#tiles .tile:not([data-self])[data-peer-id="${a.id}"][data-label="camera"]`;
    // Both ended as the browser ends them: the media share stops sharing the stream.
    await a.page.evaluate(() => {
      const video = document.querySelector<HTMLVideoElement>('#tiles .tile[data-self][data-label="camera"] video')!;
      for (const t of (video.srcObject as MediaStream).getTracks()) {
        t.stop();
        t.dispatchEvent(new Event('ended'));
      }
    });
    await waitFor(async () => (await b.page.locator(tileOnB).count()) === 0, 'a’s tile gone on b', 15_000, 100);
    expect(await a.waitForBanner('camera-error', 'camera-ended')).toMatch(/camera and microphone stopped/i);
    expect(await a.page.locator('#tiles .tile[data-self]').count()).toBe(0);
    expect([await a.page.isDisabled('#camera'), await a.page.isDisabled('#mic')]).toEqual([true, true]);

    await waitFor(async () => (await a.page.$eval('#camera-select', (s: HTMLSelectElement) => s.value)) === '', 'a’s list asks for a camera', 15_000, 100);
    const first = await a.page.$eval('#camera-select', (s: HTMLSelectElement) => [...s.options].find((o) => o.label === 'fake_device_0')!.value);
    await a.page.selectOption('#camera-select', first);
    // Shared again: b gets the tile back, playing a's green camera, its mic marked off (ended, and muted before).
    await b.waitForRemoteTiles(cameras(a));
    await waitFor(async () => green(await tileColour(b, a.id)), 'a’s green camera back on b', 15_000, 100);
    await waitFor(async () => (await b.page.getAttribute(tileOnB, 'data-muted')) === 'audio', 'a’s mic marked off on b', 15_000, 100);
    await waitFor(async () => green(await tileColour(a, 'self')), 'a’s own tile back, green', 15_000, 100);
    expect(await a.page.isVisible('#camera-error')).toBe(false);
    expect([await a.page.isEnabled('#camera'), await a.page.isDisabled('#mic')]).toEqual([true, true]);

    // The mic's ended track is replaced in the shared stream; it keeps the mute it had, until unmuted.
    await waitFor(async () => (await a.page.$eval('#mic-select', (s: HTMLSelectElement) => s.value)) === '', 'a’s list asks for a microphone', 15_000, 100);
    const mic = await a.page.$eval('#mic-select', (s: HTMLSelectElement) => [...s.options].find((o) => o.value !== '')!.value);
    await a.page.selectOption('#mic-select', mic);
    await waitFor(async () => (await ownTrack(a, 'audio')).state === 'live', 'a’s new mic in its stream', 15_000, 100);
    await waitFor(() => a.page.isEnabled('#mic'), 'a’s mic button works again', 15_000, 100);
    expect(await a.page.getAttribute('#mic', 'aria-pressed')).toBe('true');
    await a.page.click('#mic');
    await waitFor(async () => (await b.page.getAttribute(tileOnB, 'data-muted')) === null, 'a’s mic unmarked on b', 15_000, 100);
    expect(await remoteTracks(b, a.id)).toMatchObject({ tracks: [expect.stringMatching(/^audio:/), expect.stringMatching(/^video:/)] });
    await b.waitForRemoteTiles(cameras(a));
    expect(a.pageErrors.concat(b.pageErrors)).toEqual([]);
  }, 90_000);
});
