/**
 * A page whose browser will not create peer connections until the test allows it: what
 * a person sees when WebRTC is turned off by a setting or an extension (the page's
 * `new RTCPeerConnection()` throws, and the room emits `transport-failed`).
 */
import type { Page } from 'playwright-core';

/** Before the page loads: make `new RTCPeerConnection()` throw until {@link allowWebRtc}. */
export async function blockWebRtc(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { webRtcBlocked: boolean; RTCPeerConnection: typeof RTCPeerConnection };
    const Native = w.RTCPeerConnection;
    w.webRtcBlocked = true;
    const Switched = function (this: unknown, ...args: ConstructorParameters<typeof RTCPeerConnection>) {
      if (w.webRtcBlocked) throw new DOMException('WebRTC is turned off (test)', 'NotSupportedError');
      return new Native(...args);
    } as unknown as typeof RTCPeerConnection;
    Switched.prototype = Native.prototype;
    w.RTCPeerConnection = Switched;
  });
}

/** From now on the page creates peer connections as usual. */
export function allowWebRtc(page: Page): Promise<void> {
  return page.evaluate(() => void ((window as unknown as { webRtcBlocked: boolean }).webRtcBlocked = false));
}
