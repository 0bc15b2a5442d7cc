/**
 * Real media in Node for the media tests: @roamhq/wrtc's synthetic video source as a
 * camera, and its video sink to count the frames a receiver gets.
 */
import { createRequire } from 'node:module';

/** @roamhq/wrtc, to inject as `createMediaShare(room, { wrtc })`. */
export const wrtc = createRequire(import.meta.url)('@roamhq/wrtc');

/**
 * A video track fed the I420 frame `data` (`width`×`height`, all zeros unless given)
 * ~30 times a second, `beforeFrame` run before each; `stop` ends the feed and the track.
 */
export function videoFeed(width: number, height: number, data = new Uint8ClampedArray(width * height * 1.5), beforeFrame?: () => void): { track: MediaStreamTrack; stop: () => void } {
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack() as MediaStreamTrack;
  const timer = setInterval(() => {
    beforeFrame?.();
    source.onFrame({ width, height, data });
  }, 33);
  return {
    track,
    stop: () => {
      clearInterval(timer);
      track.stop();
    },
  };
}

/** A 160×120 synthetic camera: a stream with one video track fed ~30 frames a second. */
export function syntheticCamera(): { stream: MediaStream; stop: () => void } {
  const { track, stop } = videoFeed(160, 120);
  return { stream: new wrtc.MediaStream([track]) as MediaStream, stop };
}

/**
 * A 640×480 camera filmed through snow: every frame changes everywhere, so the encoder
 * needs all the bitrate it is allowed (a still synthetic picture needs almost none).
 */
export function noisyCamera(): { stream: MediaStream; stop: () => void } {
  const data = new Uint8ClampedArray(640 * 480 * 1.5);
  const { track, stop } = videoFeed(640, 480, data, () => {
    for (let i = 0; i < data.length; i += 7) data[i] = Math.random() * 255;
  });
  return { stream: new wrtc.MediaStream([track]) as MediaStream, stop };
}

/** Frames of `stream`'s video track seen by a sink, and their width. */
export function frameCounter(stream: MediaStream): { frames: () => number; width: () => number; stop: () => void } {
  const sink = new wrtc.nonstandard.RTCVideoSink(stream.getVideoTracks()[0]);
  let frames = 0;
  let width = 0;
  sink.onframe = ({ frame }: { frame: { width: number } }) => {
    frames++;
    width = frame.width;
  };
  return { frames: () => frames, width: () => width, stop: () => sink.stop() };
}

/** Resolves once `check()` holds (polled every 20 ms); rejects naming `what` after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
