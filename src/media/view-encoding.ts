/**
 * How large to encode a video for one peer, given how large that peer shows it. In a full
 * mesh every sender encodes its camera once per peer; a peer showing it in a small tile
 * (a 6-person grid on a phone) needs only a fraction of the pixels, and one not showing it
 * (a hidden tile, a tab in the background) needs none. Pure: media-share.ts asks, and
 * sender-encoding.ts applies the answer with RTCRtpSender.setParameters.
 */

/**
 * The size, in pixels, at which a peer shows one of our streams; 0 (either side) when it
 * does not show it at all.
 *
 * @example
 * ```ts
 * const size: ViewSize = { width: Math.round(rect.width * devicePixelRatio), height: Math.round(rect.height * devicePixelRatio) };
 * media.setViewSize(peerId, stream, size);
 * ```
 */
export interface ViewSize {
  readonly width: number;
  readonly height: number;
}

/** What a video sender's one encoding should be (the fields of RTCRtpEncodingParameters we set). */
export interface SendEncoding {
  readonly active: boolean;
  readonly scaleResolutionDownBy: number;
  /** Undefined: no cap of ours (the engine's own). */
  readonly maxBitrate: number | undefined;
}

/**
 * The bitrate a full-size camera is taken to need when the publisher set no `maxBitrate`
 * (libwebrtc's own ceiling for a 640×480–720p camera is about this): a scaled-down encoding
 * gets its share of it by pixel count.
 */
export const FULL_SIZE_BITRATE = 2_500_000;
/** No encoding is capped below this (bit/s): under it a small picture is a smear of blocks. */
export const MIN_SCALED_BITRATE = 50_000;
/** The encoded picture's shorter side is kept at least this many pixels. */
const MIN_ENCODED_SIDE = 32;

/** The encoding of a sender whose peer said nothing of its view: full size, the publisher's cap. */
export function fullEncoding(maxBitrate: number | undefined): SendEncoding {
  return { active: true, scaleResolutionDownBy: 1, maxBitrate };
}

/**
 * The encoding for a track of `source` size shown at `view`, under the publisher's cap.
 * The scale is the largest that still gives the view at least its pixels on both sides,
 * rounded down to a step of √2 so a tile that grows or shrinks by a few pixels changes
 * nothing (no setParameters); the bitrate is the cap (or {@link FULL_SIZE_BITRATE}) times
 * the share of pixels sent, never above the cap. A source of unknown size is sent whole.
 *
 * @example
 * ```ts
 * encodingForView({ width: 640, height: 480 }, { width: 160, height: 120 }, 500_000);
 * // { active: true, scaleResolutionDownBy: 4, maxBitrate: 50_000 }
 * ```
 */
export function encodingForView(source: { width?: number | undefined; height?: number | undefined }, view: ViewSize | undefined, maxBitrate: number | undefined): SendEncoding {
  if (view === undefined) return fullEncoding(maxBitrate);
  if (view.width <= 0 || view.height <= 0) return { active: false, scaleResolutionDownBy: 1, maxBitrate };
  const { width, height } = source;
  if (!(typeof width === 'number' && typeof height === 'number' && width > 0 && height > 0)) return fullEncoding(maxBitrate);
  const needed = Math.min(width / view.width, height / view.height);
  const stepped = needed > 1 ? 2 ** (Math.floor(Math.log2(needed) * 2) / 2) : 1;
  const scale = Math.max(1, Math.min(stepped, Math.min(width, height) / MIN_ENCODED_SIDE));
  if (scale === 1) return fullEncoding(maxBitrate);
  const share = Math.round((maxBitrate ?? FULL_SIZE_BITRATE) / (scale * scale));
  const bitrate = Math.max(MIN_SCALED_BITRATE, share);
  return { active: true, scaleResolutionDownBy: Number(scale.toFixed(3)), maxBitrate: maxBitrate === undefined ? bitrate : Math.min(maxBitrate, bitrate) };
}

/** Whether two encodings are the same (no setParameters needed to go from one to the other). */
export function sameEncoding(a: SendEncoding, b: SendEncoding): boolean {
  return a.active === b.active && a.scaleResolutionDownBy === b.scaleResolutionDownBy && a.maxBitrate === b.maxBitrate;
}
