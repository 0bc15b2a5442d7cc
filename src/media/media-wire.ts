/**
 * The media layer's messages, sent as JSON text on one reliable mesh channel per room.
 * Everything a peer sends is checked here before it is used: a message that does not
 * parse, or breaks a limit, is refused with a reason and never reaches an
 * RTCPeerConnection. See PROTOCOL.md, "Media".
 */

/** Wire version; a message with another `v` is refused. */
export const MEDIA_WIRE_VERSION = 1;

/** Limits on what a peer may send (an SDP with a few tracks is 3–10 KB). */
export const MEDIA_LIMITS = {
  /** Bytes in one message. */
  maxMessageBytes: 128 * 1024,
  /** Streams one peer may announce at once. */
  maxStreams: 16,
  /** Characters in a stream id or label. */
  maxNameLength: 128,
  /** Characters in one ICE candidate line. */
  maxCandidateLength: 2048,
  /** Characters in a connection session id. */
  maxSessionLength: 64,
  /**
   * Media sections (m-lines) in one SDP: each makes the receiver's engine set up a
   * transceiver, so a peer could otherwise ask for hundreds in one offer. 16 streams of
   * audio and video, plus the stopped sections kept until reused, fit well within.
   */
  maxMediaSections: 64,
  /**
   * Candidates one media connection takes from the peer between two of its ICE restarts
   * (new credentials in its offer or answer: the engine drops the old candidates then).
   * The engine keeps each and sends connectivity checks to the address it names; a
   * connection finds a handful (per network interface, STUN and TURN server).
   */
  maxCandidates: 512,
  /**
   * Offers and answers from the peer waiting on one media connection to be applied (they
   * are applied one at a time, each awaiting the engine). An honest peer offers only from
   * a stable state, so it never has more than three waiting (its offer that crossed one
   * of ours, its answer to ours, its next offer); a flood of offers would otherwise
   * make us hold each (up to 128 KiB) and run the engine on every one.
   */
  maxWaitingDescriptions: 8,
  /**
   * Bytes of the peer's messages (descriptions and candidates) waiting on one media
   * connection: 8 descriptions of the largest size. An honest peer's are a few SDPs of
   * 3–10 KB and a handful of candidates of ~100 bytes each.
   */
  maxWaitingBytes: 1024 * 1024,
  /**
   * Offers from one peer answered on a media connection we already have with it
   * (renegotiations: tracks added or removed, an offer re-sent after crossing ours, ICE
   * restarts): this many in a row, then one more every `offerRefillMs`; the one past that
   * is refused. Each runs the engine (apply the offer, make and set an answer), so a peer
   * keeping fewer than `maxWaitingDescriptions` waiting could otherwise keep it busy for
   * good. An honest peer offers once per batch of track changes (twice when offers cross):
   * even all 16 streams shared and stopped one by one in a row fit.
   */
  maxOffers: 32,
  offerRefillMs: 1000,
  /**
   * Of those offers, the ICE restarts (new `a=ice-ufrag` after an earlier one on a live
   * transport; not the new transport a share brings after every stream stopped): this many
   * in a row, then one more every `iceRestartRefillMs`. Each also makes the engine gather
   * candidates anew (a TURN allocation each, with a TURN server). An honest peer restarts
   * once its connection failed or stayed disconnected for 10 s, so at most every ~10 s.
   */
  maxIceRestarts: 8,
  iceRestartRefillMs: 3000,
  /**
   * Candidates from one peer, over all its media connections and ICE restarts: this many
   * in a row, then one more every `candidateRefillMs`; the one past that is refused.
   * `maxCandidates` alone starts again on each restart, so a peer restarting as often as
   * it may could hand the engine ~170 a second, each checked with STUN requests to the
   * address it names. Counted as they arrive, so one waiting for its offer or answer is
   * counted once. An honest peer sends a handful per gathering, a few dozen with many
   * interfaces and TURN servers (once per kind of media on a new connection, before its
   * sections are bundled), and gathers anew only on a new connection or an ICE restart
   * (after a failure, so at most every ~10 s): the refill keeps up with a gathering of 40
   * every 10 s for as long as a pair keeps failing, the burst with several new connections.
   */
  maxCandidatesInRow: 256,
  candidateRefillMs: 250,
  /** Pixels on a side of a `view` size (an 8K screen is 7680 wide). */
  maxViewSide: 16384,
  /**
   * `view` messages from one peer: this many in a row, then one more every `viewRefillMs`;
   * the one past that is refused. Each may make us call setParameters (at most every 250 ms
   * per sender, whatever comes); an honest peer sends each stream's size at most every
   * 250 ms, so even 16 streams all resized without pause (64 a second) stay within.
   */
  maxViewsInRow: 64,
  viewRefillMs: 10,
};

/**
 * Which kinds of a stream's tracks its publisher has muted (`setMuted`).
 *
 * @example
 * ```ts
 * media.on('stream-updated', ({ peerId, muted }: { peerId: string; muted: MutedKinds }) => {
 *   tileOf(peerId).classList.toggle('camera-off', muted.video);
 * });
 * ```
 */
export interface MutedKinds {
  readonly audio: boolean;
  readonly video: boolean;
}

/** One stream a peer shares: its id (the same on both ends, carried in the SDP), an app label, what is muted. */
export interface AnnouncedStream {
  readonly id: string;
  readonly label: string;
  readonly muted: MutedKinds;
}

/** Nothing muted. */
export const NOT_MUTED: MutedKinds = Object.freeze({ audio: false, video: false });

/**
 * A media message. `s` is the sender's connection session (a random id per
 * RTCPeerConnection), `to` the receiver's session the sender is paired with ('' before it
 * knows one): messages for a connection that was replaced are recognised and dropped.
 */
export type MediaMessage =
  /** A media share starts (or starts anew): forget what was set up with its predecessor, tell it what we share. */
  | { v: 1; t: 'hello' }
  /** A media share ends: its connection and streams are gone. */
  | { v: 1; t: 'bye' }
  /**
   * The streams the sender shares now (its whole list, replacing the last one). `views`:
   * the sender sizes its encoding for each peer by the peer's `view` (an older one leaves
   * it out, and is sent none: it would count `view` as a bad message).
   */
  | { v: 1; t: 'streams'; streams: AnnouncedStream[]; views?: true }
  /** The size in pixels at which the sender shows the receiver's stream `stream` (0: not shown). */
  | { v: 1; t: 'view'; stream: string; width: number; height: number }
  | { v: 1; t: 'offer' | 'answer'; s: string; to: string; sdp: string }
  | { v: 1; t: 'candidate'; s: string; to: string; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };

const text = new TextEncoder();
const textOut = new TextDecoder('utf-8', { fatal: true });

/** `message` as bytes for a channel (a stream's `muted` as the list of muted kinds, left out when empty). */
export function encodeMediaMessage(message: MediaMessage): Uint8Array {
  if (message.t !== 'streams') return text.encode(JSON.stringify(message));
  const streams = message.streams.map(({ id, label, muted }) => {
    const kinds = (['audio', 'video'] as const).filter((k) => muted[k]);
    return kinds.length > 0 ? { id, label, muted: kinds } : { id, label };
  });
  return text.encode(JSON.stringify({ ...message, streams }));
}

/** What {@link parseMediaMessage} gives: the message, or why it was refused. */
export type ParsedMediaMessage = { ok: true; message: MediaMessage } | { ok: false; reason: string };

const isString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

/** Check and decode one message from a peer; never throws. */
export function parseMediaMessage(bytes: Uint8Array): ParsedMediaMessage {
  if (bytes.byteLength > MEDIA_LIMITS.maxMessageBytes) return { ok: false, reason: `message of ${bytes.byteLength} bytes, over ${MEDIA_LIMITS.maxMessageBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(textOut.decode(bytes));
  } catch {
    return { ok: false, reason: 'not UTF-8 JSON' };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'not an object' };
  const m = value as Record<string, unknown>;
  if (m.v !== MEDIA_WIRE_VERSION) return { ok: false, reason: `wire version ${String(m.v)}, expected ${MEDIA_WIRE_VERSION}` };
  switch (m.t) {
    case 'hello':
    case 'bye':
      return { ok: true, message: { v: 1, t: m.t } };
    case 'streams': {
      if (m.views !== undefined && m.views !== true) return { ok: false, reason: 'streams: views is not true' };
      const parsed = parseStreams(m.streams);
      if (parsed.ok && m.views === true) return { ok: true, message: { ...parsed.message, views: true } as MediaMessage };
      return parsed;
    }
    case 'view': {
      if (!isString(m.stream, MEDIA_LIMITS.maxNameLength) || m.stream.length === 0) return { ok: false, reason: 'view: stream is not a stream id' };
      for (const side of ['width', 'height'] as const) {
        const n = m[side];
        if (!(Number.isInteger(n) && (n as number) >= 0 && (n as number) <= MEDIA_LIMITS.maxViewSide)) {
          return { ok: false, reason: `view: ${side} ${JSON.stringify(n)?.slice(0, 20) ?? 'missing'} is not a whole number of pixels from 0 to ${MEDIA_LIMITS.maxViewSide}` };
        }
      }
      return { ok: true, message: { v: 1, t: 'view', stream: m.stream, width: m.width as number, height: m.height as number } };
    }
    case 'offer':
    case 'answer':
      if (!isSessionPair(m)) return { ok: false, reason: `${m.t}: bad session ids` };
      if (typeof m.sdp !== 'string' || !m.sdp.startsWith('v=0')) return { ok: false, reason: `${m.t}: sdp is not an SDP` };
      {
        const sections = m.sdp.split(/\r?\nm=/).length - 1;
        if (sections > MEDIA_LIMITS.maxMediaSections) return { ok: false, reason: `${m.t}: ${sections} media sections, over ${MEDIA_LIMITS.maxMediaSections}` };
      }
      return { ok: true, message: { v: 1, t: m.t, s: m.s, to: m.to, sdp: m.sdp } };
    case 'candidate': {
      if (!isSessionPair(m)) return { ok: false, reason: 'candidate: bad session ids' };
      if (!isString(m.candidate, MEDIA_LIMITS.maxCandidateLength)) return { ok: false, reason: 'candidate: not a candidate line' };
      const mid = m.sdpMid ?? null;
      const index = m.sdpMLineIndex ?? null;
      if (mid !== null && !isString(mid, MEDIA_LIMITS.maxNameLength)) return { ok: false, reason: 'candidate: bad sdpMid' };
      if (index !== null && !(Number.isInteger(index) && (index as number) >= 0 && (index as number) < 1024)) return { ok: false, reason: 'candidate: bad sdpMLineIndex' };
      return { ok: true, message: { v: 1, t: 'candidate', s: m.s, to: m.to, candidate: m.candidate, sdpMid: mid, sdpMLineIndex: index as number | null } };
    }
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(String(m.t)).slice(0, 40)}` };
  }
}

function isSessionPair(m: Record<string, unknown>): m is Record<string, unknown> & { s: string; to: string } {
  return isString(m.s, MEDIA_LIMITS.maxSessionLength) && m.s.length > 0 && isString(m.to, MEDIA_LIMITS.maxSessionLength);
}

function parseStreams(list: unknown): ParsedMediaMessage {
  if (!Array.isArray(list)) return { ok: false, reason: 'streams: not a list' };
  if (list.length > MEDIA_LIMITS.maxStreams) return { ok: false, reason: `streams: ${list.length} announced, over ${MEDIA_LIMITS.maxStreams}` };
  const streams: AnnouncedStream[] = [];
  const ids = new Set<string>();
  for (const item of list) {
    const s = item as Record<string, unknown> | null;
    if (typeof s !== 'object' || s === null || !isString(s.id, MEDIA_LIMITS.maxNameLength) || s.id.length === 0 || !isString(s.label, MEDIA_LIMITS.maxNameLength)) {
      return { ok: false, reason: 'streams: an entry is not { id, label }' };
    }
    if (ids.has(s.id)) return { ok: false, reason: 'streams: the same id twice' };
    ids.add(s.id);
    const muted = s.muted ?? [];
    if (!Array.isArray(muted) || muted.length > 2 || !muted.every((k) => k === 'audio' || k === 'video') || new Set(muted).size !== muted.length) {
      return { ok: false, reason: "streams: muted is not a list of 'audio' and 'video'" };
    }
    streams.push({ id: s.id, label: s.label, muted: { audio: muted.includes('audio'), video: muted.includes('video') } });
  }
  return { ok: true, message: { v: 1, t: 'streams', streams } };
}
