/**
 * Camera, microphone and screen streams shared over a room: `publish()` a local stream
 * and every peer (now in the room, or joining later) receives it; each stream a peer
 * shares arrives as a `stream-added` event, and `stream-removed` follows when it stops
 * sharing it or leaves. Media flows peer to peer, one media connection per pair, made only
 * once either side shares something (see peer-media.ts); the negotiation travels on the
 * room's own channel, so the relay sees none of it.
 */
import { Emitter } from '../util/emitter.js';
import { MeshpartyError } from '../util/errors.js';
import { consoleLogger, type Logger } from '../mesh/logger.js';
import type { PeerId, Room } from '../mesh/types.js';
import { isNodeWebrtc, withJsSideDescriptions } from '../transport/wrtc-descriptions.js';
import type { WebRtcImplementation } from '../transport/simple-peer.js';
import { type AnnouncedStream, type MediaMessage, type MutedKinds, MEDIA_LIMITS, NOT_MUTED, encodeMediaMessage, parseMediaMessage } from './media-wire.js';
import { PeerAllowance } from './peer-allowance.js';
import { PeerMedia } from './peer-media.js';
import { type SendEncoding, type ViewSize, encodingForView } from './view-encoding.js';
import { ViewHints } from './view-hints.js';
import { watchVideoSize } from './video-size-watch.js';

export type { MutedKinds, ViewSize };

/**
 * A stream a peer shares with us.
 *
 * @example
 * ```ts
 * media.on('stream-added', ({ peerId, stream, label }: RemoteMediaStream) => showTile(peerId, label, stream));
 * ```
 */
export interface RemoteMediaStream {
  /** The peer sharing it. */
  readonly peerId: PeerId;
  /** The stream as received (its id is the publisher's stream id). */
  readonly stream: MediaStream;
  /** The publisher's label (`publish(stream, { label })`), e.g. `camera` or `screen`. */
  readonly label: string;
  /**
   * What the publisher has muted with `setMuted` (its muted tracks send silence or black
   * frames), or whose tracks have all ended (an unplugged camera, the mic still on): show
   * a "camera off" picture or a muted-mic mark. A change comes as `stream-updated`.
   */
  readonly muted: MutedKinds;
}

/**
 * Events of a {@link MediaShare}.
 *
 * @example
 * ```ts
 * const off = media.on('error', (err: MediaShareEvents['error']) => console.warn(err.code, err.detail?.peer));
 * ```
 */
export interface MediaShareEvents {
  /** A peer's stream can be shown (it is announced and its first track arrived). */
  'stream-added': RemoteMediaStream;
  /** A shown stream's publisher muted or unmuted it: the new state (same `stream`). */
  'stream-updated': RemoteMediaStream;
  /** A peer stopped sharing a stream, left, or this share was destroyed. */
  'stream-removed': RemoteMediaStream;
  /**
   * Something went wrong with one peer's media; `code` is stable: `bad-message` (a peer
   * sent a malformed media message: dropped, `detail.reason`), `media-negotiation-failed`,
   * `media-connection-failed` (ICE failed, or stayed disconnected for 10 s; restarting
   * ICE, the streams stay). `detail.peer` names the peer.
   */
  error: MeshpartyError;
}

/**
 * Options of {@link createMediaShare}.
 *
 * @example
 * ```ts
 * import wrtc from '@roamhq/wrtc'; // Node only; browsers need nothing
 * const media = createMediaShare(room, { wrtc, iceServers: [{ urls: 'stun:stun.example.org' }] });
 * ```
 */
export interface MediaShareOptions {
  /**
   * The WebRTC implementation; default the browser's `RTCPeerConnection`. In Node pass
   * `@roamhq/wrtc` (node-datachannel carries no media).
   */
  wrtc?: Pick<WebRtcImplementation, 'RTCPeerConnection'>;
  /** STUN/TURN servers for the media connections (default none, as for the mesh). */
  iceServers?: RTCIceServer[];
  /**
   * The room channel the negotiation uses (default `media`): one live share per room and
   * name (a second throws `channel-in-use` until the first is destroyed). Peers' shares
   * meet on the same name.
   */
  channel?: string;
  /** Where dropped messages and problems are logged (default: warnings to the console). */
  logger?: Logger;
}

/**
 * Options of {@link MediaShare.publish}.
 *
 * @example
 * ```ts
 * const options: PublishOptions = { label: 'camera', maxBitrate: 500_000 }; // 500 kbit/s per peer
 * media.publish(camera, options);
 * ```
 */
export interface PublishOptions {
  /** What the stream is, for the peers' UI (e.g. `camera`, `screen`); default ''. At most 128 characters. */
  label?: string;
  /**
   * Cap on each video track's bitrate towards each peer, in bits per second (WebRTC's own
   * unit); default none (the engine's, ~1–2.5 Mbit/s for a camera). In a full mesh every
   * peer gets its own copy, so the uplink carries (peers − 1) × this: 500 000 keeps a
   * 5-person call under 2 Mbit/s up. At least 1 000.
   */
  maxBitrate?: number;
}

/**
 * Streams shared over a room. Created by {@link createMediaShare}.
 *
 * @example
 * ```ts
 * const media = createMediaShare(room);
 * const camera = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
 * const stopSharing = media.publish(camera, { label: 'camera' });
 * media.on('stream-added', ({ peerId, stream }) => attach(peerId, stream));
 * media.on('stream-removed', ({ peerId, stream }) => detach(peerId, stream));
 * stopSharing(); // peers get stream-removed
 * ```
 */
export interface MediaShare {
  /**
   * Share `stream` (its tracks at this moment: tracks added to or taken from it later
   * change nothing; to switch camera or mic, use `replaceTrack`) with every peer, now and
   * later. Returns the function that stops sharing it. Mute with `setMuted`
   * (no renegotiation, and the peers are told). A stream whose tracks have all ended stops
   * being shared by itself: ended by the browser (its "stop sharing" button) at once, by
   * `track.stop()` (which fires no event) within a second. When only one kind's tracks end
   * (the camera unplugged, the mic still on), peers get that kind as muted
   * (`stream-updated`; a kind already ended when published, at once). Throws `bad-argument` (not a stream, or over 16 shared at once, or
   * a label over 128 characters) or `closed` (after `destroy()`).
   */
  publish(stream: MediaStream, options?: PublishOptions): () => void;
  /**
   * Mute or unmute a published stream's audio or video tracks (`track.enabled`: no
   * renegotiation) and tell the peers, who get `stream-updated` with `muted`. Kinds left
   * out stay as they are. Muted video sends black frames for a second, then its
   * encodings pause (`active: false`: nothing more to encode or send; the peers keep the
   * black picture) until it is unmuted. Throws `bad-argument` for a stream that is not
   * published here. Setting `track.enabled` by hand mutes too, but peers are not told
   * and the black frames go on.
   */
  setMuted(stream: MediaStream, muted: Partial<MutedKinds>): void;
  /**
   * Switch one track of a published stream for another of the same kind (another camera,
   * the phone's other side, another mic) with no renegotiation: every peer keeps its
   * stream and track (no `stream-removed` / `stream-added`) and gets the new frames; no
   * offer is made, and a peer joining later gets `newTrack`. `newTrack` takes the old
   * one's place in `stream` too (so a local preview of `stream` follows) and its muted
   * state (`setMuted`); `oldTrack` is not stopped (stop it yourself, once it is not
   * needed). `oldTrack` may have ended (an unplugged camera: peers then had the kind as
   * muted, and get it back); a stream whose tracks had all ended is no longer shared
   * (publish the new one). Resolves once every peer's connection sends `newTrack` (an
   * engine refusing it for one peer is an `error` event, `media-negotiation-failed`).
   * Throws `bad-argument` (a stream not published here, `oldTrack` not one of its shared
   * tracks, `newTrack` not a live track of the same kind, or already shared here) or
   * `closed` (after `destroy()`).
   *
   * @example
   * ```ts
   * const [oldCam] = camera.getVideoTracks();
   * const [newCam] = (await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: pickedId } } })).getVideoTracks();
   * await media.replaceTrack(camera, oldCam, newCam);
   * oldCam.stop();
   * ```
   */
  replaceTrack(stream: MediaStream, oldTrack: MediaStreamTrack, newTrack: MediaStreamTrack): Promise<void>;
  /**
   * Tell `peer` the size in pixels at which this page shows its `stream` (received from
   * it: `stream-added`), so it encodes that stream for us no larger than needed: a small
   * tile gets a scaled-down picture at a bitrate scaled to its pixel count (under the
   * publisher's `maxBitrate`), and `{ width: 0, height: 0 }` (a hidden tile, a page in
   * the background) pauses it altogether, until a size is set again. Until a size is set
   * the peer sends full size. Pass device pixels (CSS pixels × `devicePixelRatio`). Call
   * it as often as the tile changes (each resize): the peer is told at most every 250 ms
   * and changes its encoding at most every 250 ms, with no renegotiation. A peer running
   * an older meshparty is not told (it keeps sending full size). Returns false (nothing
   * sent) when `stream` is not, or no longer, shown from `peer`. Throws `bad-argument`
   * for a size that is not two finite numbers of at least 0 (larger than 16384 counts as
   * 16384) or `closed` after `destroy()`.
   *
   * @example
   * ```ts
   * media.on('stream-added', ({ peerId, stream }) => {
   *   const video = addTile(peerId, stream);
   *   new ResizeObserver(([entry]) => {
   *     const { width, height } = entry.contentRect; // 0 × 0 once the tile is hidden
   *     media.setViewSize(peerId, stream, { width: width * devicePixelRatio, height: height * devicePixelRatio });
   *   }).observe(video);
   * });
   * ```
   */
  setViewSize(peer: PeerId, stream: MediaStream, size: ViewSize): boolean;
  /**
   * The WebRTC statistics of the media connection to `peer` (bitrates, packet loss,
   * round-trip time, frames decoded), or undefined when there is none (neither side
   * shares anything with the other).
   */
  stats(peer: PeerId): Promise<RTCStatsReport | undefined>;
  /** Streams peers share with us now (each announced one whose first track arrived). */
  remoteStreams(): RemoteMediaStream[];
  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof MediaShareEvents>(event: K, listener: (value: MediaShareEvents[K]) => void): () => void;
  /**
   * Stop sharing, close every media connection (peers get `stream-removed`); idempotent.
   * The room stays. Called by itself when the room begins to leave (`leaving`, so the
   * peers drop our tiles at once) or closes.
   */
  destroy(): void;
}

/** Bad messages from one peer before it is disconnected from the room. */
const MAX_BAD_MESSAGES = 16;
/** Media shares one peer may start in a row (each costs us a connection); then one more every 10 s. */
const MAX_RESTARTS = 8;
const RESTART_REFILL_MS = 10_000;
/**
 * Connections one peer's offers may make us build in a row (after `bye`, on a session we
 * have not seen, or when first offers cross); then one more every 2.5 s. A share of the
 * peer's needs one, two when offers cross: 4 for each share it may start is plenty.
 */
const MAX_ANSWERED_CONNECTIONS = 4 * (MAX_RESTARTS + 1);

/**
 * How long a stream stopped here is remembered: a peer's `view` of it sent before our
 * `streams` without it reached the peer is honest, dropped quietly, not a bad message.
 */
const STOPPED_STREAM_MEMORY_MS = 30_000;

/**
 * How long a muted camera sends black frames before its encodings pause (`active: false`,
 * until unmuted): long enough for the peers to show black rather than the last picture
 * frozen (an app that ignores `muted`), after which the black costs the uplink and the
 * encoder for nothing.
 */
const MUTED_PAUSE_MS = 1000;

/** A stream published here: see `published` in createMediaShare. */
interface Published {
  stream: MediaStream;
  tracks: MediaStreamTrack[];
  label: string;
  maxBitrate: number | undefined;
  muted: MutedKinds;
  ended: MutedKinds;
  stopWatching: () => void;
  /** Whether the video is muted and its black frames had MUTED_PAUSE_MS to go out: its encodings are paused. */
  videoPaused: boolean;
  /** Runs from a video mute until the pause (MUTED_PAUSE_MS). */
  pauseTimer: ReturnType<typeof setTimeout> | undefined;
}

type RTCPeerConnectionConstructor = new (config?: RTCConfiguration) => RTCPeerConnection;

/**
 * Share camera, microphone and screen streams with the peers of `room`. One share per room
 * and channel at a time: a second throws `channel-in-use` until the first is destroyed;
 * no `RTCPeerConnection` here throws `webrtc-unsupported`.
 *
 * @example
 * ```ts
 * const room = await joinRoom({ relay: 'wss://relay.example.org', room: 'standup' });
 * const media = createMediaShare(room);
 * media.publish(await navigator.mediaDevices.getUserMedia({ video: true }), { label: 'camera' });
 * media.on('stream-added', ({ peerId, stream }) => {
 *   const video = Object.assign(document.createElement('video'), { srcObject: stream, autoplay: true, playsInline: true, id: peerId });
 *   document.body.append(video);
 * });
 * ```
 */
export function createMediaShare(room: Room, options: MediaShareOptions = {}): MediaShare {
  const Pc = peerConnectionConstructor(options.wrtc);
  const logger = options.logger ?? consoleLogger();
  const channelName = options.channel ?? 'media';
  const channel = room.channel(channelName);
  // Claimed before anything is set up: two shares on one channel would both take each
  // message (each answering offers on a connection of its own, each forgetting on a
  // `hello` what the other set up), and a refused one leaves no listener and sends nothing.
  const release = channel.claim('a media share (destroy() it first, or pass another options.channel)');
  const events = new Emitter<MediaShareEvents>();
  /**
   * `tracks`: the stream's tracks when it was published (or put in their place by
   * `replaceTrack`), the ones sent (to a peer joining later too) and stopped: the app may
   * swap tracks in its stream by hand meanwhile, which changes nothing. `ended`: the
   * kinds whose tracks have all ended (an unplugged camera), announced as muted.
   */
  const published = new Map<string, Published>();
  const connections = new Map<PeerId, PeerMedia>();
  /** What each peer says it shares, and the streams whose tracks arrived, by stream id. */
  const announced = new Map<PeerId, Map<string, AnnouncedStream>>();
  const arrived = new Map<PeerId, Map<string, MediaStream>>();
  const shown = new Map<PeerId, Map<string, RemoteMediaStream>>();
  const badMessages = new Map<PeerId, number>();
  /** `hello`s each peer may still send. */
  const restarts = new PeerAllowance(MAX_RESTARTS, RESTART_REFILL_MS);
  /** Connections each peer's offers may still make us build to answer them. */
  const answered = new PeerAllowance(MAX_ANSWERED_CONNECTIONS, RESTART_REFILL_MS / 4);
  /** Offers each peer may still have answered on a connection we have with it, and of those ICE restarts. */
  const renegotiations = new PeerAllowance(MEDIA_LIMITS.maxOffers, MEDIA_LIMITS.offerRefillMs);
  const iceRestarts = new PeerAllowance(MEDIA_LIMITS.maxIceRestarts, MEDIA_LIMITS.iceRestartRefillMs);
  /** Candidates each peer may still hand our engine, whatever connection or restart they are for. */
  const candidates = new PeerAllowance(MEDIA_LIMITS.maxCandidatesInRow, MEDIA_LIMITS.candidateRefillMs);
  /** `view` messages each peer may still send. */
  const viewAllowance = new PeerAllowance(MEDIA_LIMITS.maxViewsInRow, MEDIA_LIMITS.viewRefillMs);
  /** Sending: the size each peer shows each of our streams at (by stream id), as its `view` said. */
  const views = new Map<PeerId, Map<string, ViewSize>>();
  /** Ids of streams we stopped sharing, and when (see STOPPED_STREAM_MEMORY_MS). */
  const stopped = new Map<string, number>();
  let closed = false;

  const send = (to: PeerId, message: MediaMessage) => {
    channel.send(to, encodeMediaMessage(message)).catch((err: MeshpartyError) => {
      // A peer that left meanwhile is not a problem; peer-left cleans up.
      if (err.code !== 'peer-left' && err.code !== 'unknown-peer' && err.code !== 'closed') logger.warn('media: a message could not be sent', { peer: to, code: err.code });
    });
  };

  /** Receiving: the sizes we show each peer's streams at, told to it. */
  const hints = new ViewHints(send);

  /**
   * The encoding of `entry`'s video `track` for `peer`: sized for the peer's view of it,
   * under the stream's cap; `paused` (a muted camera's, see pauseWhileMuted) keeps the
   * view's size, so unmuting changes only `active`.
   */
  const encodingFor = (peer: PeerId, entry: Published, track: MediaStreamTrack, paused = entry.videoPaused): SendEncoding => {
    const settings = typeof track.getSettings === 'function' ? track.getSettings() : {};
    const encoding = encodingForView(settings, views.get(peer)?.get(entry.stream.id), entry.maxBitrate);
    return paused ? { ...encoding, active: false } : encoding;
  };

  /** Give `media`, the connection to `peer`, `entry`'s video encodings anew. */
  const encodeFor = (peer: PeerId, media: PeerMedia, entry: Published) => {
    for (const track of entry.tracks) if (track.kind === 'video') media.setEncoding(track, encodingFor(peer, entry, track));
  };

  /** Give every connection `entry`'s video encodings anew (a mute paused or resumed them, its camera changed size). */
  const reencode = (entry: Published) => {
    for (const [peer, media] of connections) encodeFor(peer, media, entry);
  };

  /** Pause `entry`'s video encodings on every connection once its black frames had MUTED_PAUSE_MS to go out. */
  const pauseSoon = (entry: Published) => {
    clearTimeout(entry.pauseTimer);
    entry.pauseTimer = setTimeout(() => {
      entry.pauseTimer = undefined;
      entry.videoPaused = true;
      reencode(entry);
    }, MUTED_PAUSE_MS);
  };

  /** After a video mute, pause `entry`'s encodings once its black frames went out; on unmute, resume them. */
  const pauseWhileMuted = (entry: Published) => {
    if (entry.muted.video) return pauseSoon(entry);
    clearTimeout(entry.pauseTimer);
    entry.pauseTimer = undefined;
    if (!entry.videoPaused) return;
    entry.videoPaused = false;
    reencode(entry);
  };

  /** The peer's `view` of one of our streams: checked, kept, and its encoding for the peer changed. */
  const onView = (peer: PeerId, message: Extract<MediaMessage, { t: 'view' }>) => {
    if (!viewAllowance.take(peer)) return refuse(peer, `view: more than ${MEDIA_LIMITS.maxViewsInRow} in a row`);
    const entry = published.get(message.stream);
    if (!entry) {
      const at = stopped.get(message.stream);
      if (at !== undefined && Date.now() - at < STOPPED_STREAM_MEMORY_MS) return; // crossed our stop: honest
      return refuse(peer, 'view: not a stream shared here');
    }
    const media = connections.get(peer);
    if (!media || !entry.tracks.some((t) => media.sends(t))) return refuse(peer, 'view: a stream the peer is not receiving');
    let sizes = views.get(peer);
    if (!sizes) views.set(peer, (sizes = new Map()));
    sizes.set(message.stream, { width: message.width, height: message.height });
    encodeFor(peer, media, entry);
  };

  const catalog = (): AnnouncedStream[] =>
    [...published.values()].map(({ stream, label, muted, ended }) => ({ id: stream.id, label, muted: { audio: muted.audio || ended.audio, video: muted.video || ended.video } }));

  const connect = (peer: PeerId): PeerMedia => {
    let media = connections.get(peer);
    if (media) return media;
    media = new PeerMedia(peer, room.selfId, new Pc({ iceServers: options.iceServers ?? [] }), {
      send: (message) => send(peer, message),
      onStream: (stream) => {
        let streams = arrived.get(peer);
        if (!streams) arrived.set(peer, (streams = new Map()));
        if (!streams.has(stream.id) && unannounced(peer, streams) >= MEDIA_LIMITS.maxStreams) {
          return refuse(peer, `more than ${MEDIA_LIMITS.maxStreams} streams arrived that were not announced`);
        }
        streams.set(stream.id, stream);
        reconcile(peer);
      },
      onProblem: (err) => {
        events.emit('error', err);
        // An SDP the engine refuses counts like a malformed message: a peer cannot make
        // us build connections without end by sending offers that fail.
        if (err.detail?.byPeer === true) strike(peer, err.message);
      },
      logger,
    });
    connections.set(peer, media);
    for (const entry of published.values()) {
      // A muted camera starts active here too (black frames, then paused with the rest):
      // an engine that refuses setParameters once negotiated (@roamhq/wrtc) would
      // otherwise never send this peer the camera again, unmuted or not.
      for (const track of entry.tracks) media.addTrack(track, entry.stream, encodingFor(peer, entry, track, false));
      if (entry.videoPaused) pauseSoon(entry);
    }
    return media;
  };

  /** Emit added/updated/removed so what is shown matches what is announced and has arrived. */
  const reconcile = (peer: PeerId) => {
    const says = announced.get(peer) ?? new Map<string, AnnouncedStream>();
    const has = arrived.get(peer) ?? new Map<string, MediaStream>();
    let showing = shown.get(peer);
    if (!showing) shown.set(peer, (showing = new Map()));
    for (const [id, remote] of showing) {
      const said = says.get(id);
      if (said && has.get(id) === remote.stream) {
        if (said.muted.audio === remote.muted.audio && said.muted.video === remote.muted.video) continue;
        const updated: RemoteMediaStream = { ...remote, muted: said.muted };
        showing.set(id, updated);
        events.emit('stream-updated', updated);
        continue;
      }
      showing.delete(id);
      hints.dropStream(peer, id);
      events.emit('stream-removed', remote);
    }
    for (const [id, { label, muted }] of says) {
      const stream = has.get(id);
      if (!stream || showing.has(id)) continue;
      const remote: RemoteMediaStream = { peerId: peer, stream, label, muted };
      showing.set(id, remote);
      events.emit('stream-added', remote);
    }
    if (showing.size === 0) shown.delete(peer);
  };

  /**
   * Streams of the peer's that arrived and are not in its list. An honest peer announces a
   * stream before its tracks go out, so these are few and short-lived (one unshared while
   * its tracks were on the way), dropped by its next list; a peer renegotiating tracks of
   * ever new streams it never announces would otherwise make us keep each for good.
   */
  const unannounced = (peer: PeerId, streams: Map<string, MediaStream>): number => {
    const says = announced.get(peer);
    let count = 0;
    for (const id of streams.keys()) if (!says?.has(id)) count++;
    return count;
  };

  /** Close the media connection to `peer` and drop what arrived on it. */
  const forgetConnection = (peer: PeerId) => {
    connections.get(peer)?.close();
    connections.delete(peer);
    arrived.delete(peer);
    reconcile(peer);
  };

  /** Forget the peer's share altogether: its connection and what it announced. */
  const forget = (peer: PeerId) => {
    announced.delete(peer);
    views.delete(peer);
    hints.forget(peer);
    forgetConnection(peer);
  };

  const refuse = (peer: PeerId, reason: string) => {
    logger.warn('media: dropped a bad message from a peer', { peer, reason });
    events.emit('error', new MeshpartyError('bad-message', `media message from ${peer} dropped: ${reason}`, { peer, reason }));
    strike(peer, reason);
  };

  /**
   * Counted here (MAX_BAD_MESSAGES cut the peer off) and reported to the room, which
   * counts it with the peer's bad input on every other layer (Room.strike).
   */
  const strike = (peer: PeerId, reason: string) => {
    const count = (badMessages.get(peer) ?? 0) + 1;
    badMessages.set(peer, count);
    if (count >= MAX_BAD_MESSAGES) room.disconnect?.(peer, 'bad-media-messages');
    else room.strike?.(peer, `media: ${reason}`);
  };

  const onMessage = ({ from, data }: { from: PeerId; data: Uint8Array }) => {
    if (closed) return;
    const parsed = parseMediaMessage(data);
    if (!parsed.ok) return refuse(from, parsed.reason);
    const message = parsed.message;
    if (message.t === 'hello' || message.t === 'bye') {
      if (message.t === 'hello') {
        // Each makes us build a new connection: a few per peer are plenty.
        if (!restarts.take(from)) return refuse(from, `more than ${MAX_RESTARTS} media restarts in a row`);
      }
      // Whatever we set up with the peer's previous share is gone with it.
      forget(from);
      if (message.t === 'hello') greet(from);
      return;
    }
    if (message.t === 'view') return onView(from, message);
    if (message.t === 'streams') {
      const says = new Map(message.streams.map((s) => [s.id, s]));
      announced.set(from, says);
      hints.accepts(from, message.views === true);
      // A stream no longer shared is forgotten: shared again, it shows once its tracks come back.
      const streams = arrived.get(from);
      for (const id of streams?.keys() ?? []) if (!says.has(id)) streams!.delete(id);
      return reconcile(from);
    }
    const media = connections.get(from);
    let replace = false;
    let yielded = '';
    if (media) {
      // Aimed at a connection of ours that was replaced: stale.
      if (!media.isFor(message.to)) return;
      if (media.remoteSession !== '' && message.s !== media.remoteSession) {
        if (message.to === media.session) {
          // The peer's new connection, answering ours: it forgot its old one.
          media.remoteSession = message.s;
        } else if (message.t === 'offer') {
          // The peer started a new media connection (it lost the old one): follow it.
          replace = true;
        } else {
          return; // the rest of an old connection of the peer's
        }
      }
      // Our first offer crossed theirs: a new connection answers it (see yieldsTo).
      if (media.yieldsTo(message)) {
        replace = true;
        yielded = media.session;
      }
    } else if (message.t !== 'offer') {
      return; // nothing to answer or add it to
    }
    if (!media || replace) {
      // Each costs us an RTCPeerConnection: like hellos, a peer gets a few, not endless ones.
      if (!answered.take(from)) return refuse(from, `more than ${MAX_ANSWERED_CONNECTIONS} media connections asked for in a row`);
      if (replace) forgetConnection(from);
    } else if (message.t === 'offer') {
      // The waiting cap bounds how many wait, not how many a peer sends one after another:
      // per peer, not per connection, so moving to a new session does not refill them.
      if (!renegotiations.take(from)) return refuse(from, `offer: more than ${MEDIA_LIMITS.maxOffers} offers in a row`);
      if (media.restartsIce(message.sdp) && !iceRestarts.take(from)) return refuse(from, `offer: more than ${MEDIA_LIMITS.maxIceRestarts} ICE restarts in a row`);
    }
    const answering = connect(from);
    // The peer got our replaced connection's offer: until our answer reaches it, it names that one.
    if (yielded !== '') answering.former = yielded;
    if (message.t === 'candidate') {
      if (answering.candidates >= MEDIA_LIMITS.maxCandidates) return refuse(from, `candidate: more than ${MEDIA_LIMITS.maxCandidates} on one connection`);
      // The count above starts again on every ICE restart: this one does not. Taken on
      // arrival, so one that waits for its offer or answer is counted once, like the rest.
      if (!candidates.take(from)) return refuse(from, `candidate: more than ${MEDIA_LIMITS.maxCandidatesInRow} candidates in a row`);
      answering.candidates++;
    }
    const refused = answering.receive(message, data.byteLength);
    if (refused !== undefined) return refuse(from, refused);
  };

  const offs = [
    channel.on('message', onMessage),
    room.on('peer-joined', ({ id }) => {
      if (!closed) greet(id);
    }),
    room.on('peer-left', ({ id }) => {
      forget(id);
      badMessages.delete(id);
      restarts.forget(id);
      answered.forget(id);
      renegotiations.forget(id);
      iceRestarts.forget(id);
      candidates.forget(id);
      viewAllowance.forget(id);
    }),
    // Goodbye while the connections are still open (leave() drains them before its own
    // goodbye): at 'closed' the room has no peers left to tell, and each peer would keep
    // our tiles, frozen, until the mesh's goodbye reached it.
    room.on('leaving', () => destroy()),
    room.on('status', (status) => {
      if (status === 'closed') destroy();
    }),
  ];

  /** Tell a peer's (new) share what we share, and start sending it. */
  const greet = (peer: PeerId) => {
    if (published.size === 0) return;
    send(peer, { v: 1, t: 'streams', streams: catalog(), views: true });
    connect(peer);
  };

  // Peers already connected may have sent us their streams before this share existed (or
  // to the share this one replaces): ask them again.
  for (const peer of room.peers.keys()) send(peer, { v: 1, t: 'hello' });

  const announce = () => {
    for (const peer of room.peers.keys()) send(peer, { v: 1, t: 'streams', streams: catalog(), views: true });
  };

  /**
   * Watch the entry's tracks (anew after a replaceTrack) from its `ended` state on, and
   * its video's size: the peers' encodings are scales of it (a camera resized gets them anew).
   */
  const watchEnded = (entry: Published) => {
    entry.stopWatching();
    const stopEnded = stopWhenEnded(entry.tracks, entry.ended, () => unpublish(entry.stream), (ended) => {
      entry.ended = ended;
      announce();
    });
    const stopSize = watchVideoSize(entry.tracks, () => reencode(entry));
    entry.stopWatching = () => {
      stopEnded();
      stopSize();
    };
  };

  const unpublish = (stream: MediaStream) => {
    const entry = published.get(stream.id);
    if (!entry || entry.stream !== stream) return;
    published.delete(stream.id);
    entry.stopWatching();
    clearTimeout(entry.pauseTimer);
    for (const [id, at] of stopped) if (stopped.size >= 4 * MEDIA_LIMITS.maxStreams || Date.now() - at >= STOPPED_STREAM_MEMORY_MS) stopped.delete(id);
    stopped.set(stream.id, Date.now());
    for (const sizes of views.values()) sizes.delete(stream.id);
    if (closed) return;
    announce();
    for (const media of connections.values()) for (const track of entry.tracks) media.removeTrack(track);
  };

  const destroy = () => {
    if (closed) return;
    for (const { stream } of [...published.values()]) unpublish(stream);
    for (const peer of room.peers.keys()) send(peer, { v: 1, t: 'bye' });
    closed = true;
    hints.close();
    release();
    for (const off of offs) off();
    for (const peer of [...new Set([...connections.keys(), ...shown.keys()])]) forget(peer);
  };

  return {
    publish(stream, { label = '', maxBitrate } = {}) {
      if (closed) throw new MeshpartyError('closed', 'this media share was destroyed');
      if (!stream || typeof (stream as MediaStream).getTracks !== 'function') throw new MeshpartyError('bad-argument', 'publish() takes a MediaStream');
      if (typeof label !== 'string' || label.length > MEDIA_LIMITS.maxNameLength) throw new MeshpartyError('bad-argument', `a label is a string of at most ${MEDIA_LIMITS.maxNameLength} characters`);
      if (maxBitrate !== undefined && !(typeof maxBitrate === 'number' && Number.isFinite(maxBitrate) && maxBitrate >= 1000)) {
        throw new MeshpartyError('bad-argument', `maxBitrate is in bits per second, at least 1000; got ${String(maxBitrate)}`);
      }
      const stop = () => unpublish(stream);
      if (published.get(stream.id)?.stream === stream) return stop;
      if (published.size >= MEDIA_LIMITS.maxStreams) throw new MeshpartyError('bad-argument', `at most ${MEDIA_LIMITS.maxStreams} streams are shared at once`);
      const tracks = stream.getTracks();
      // A kind already ended (a stream shared again after its camera and mic were both
      // unplugged, with a new camera and the mic still gone) is announced muted from the
      // start, not a black tile or silence until the next check.
      const entry: Published = { stream, tracks, label, maxBitrate, muted: NOT_MUTED, ended: endedKinds(tracks), stopWatching: () => {}, videoPaused: false, pauseTimer: undefined };
      watchEnded(entry);
      published.set(stream.id, entry);
      announce();
      for (const peer of room.peers.keys()) {
        const media = connect(peer);
        for (const track of entry.tracks) media.addTrack(track, stream, encodingFor(peer, entry, track));
      }
      return stop;
    },
    stats: async (peer) => connections.get(peer)?.stats(),
    setMuted(stream, change) {
      const entry = stream ? published.get(stream.id) : undefined;
      if (!entry || entry.stream !== stream) throw new MeshpartyError('bad-argument', 'setMuted() takes a stream published on this share');
      const muted = { audio: change.audio ?? entry.muted.audio, video: change.video ?? entry.muted.video };
      for (const track of entry.tracks) if (track.kind === 'audio' || track.kind === 'video') track.enabled = !muted[track.kind];
      if (muted.audio === entry.muted.audio && muted.video === entry.muted.video) return;
      const videoChanged = muted.video !== entry.muted.video;
      entry.muted = muted;
      if (videoChanged) pauseWhileMuted(entry);
      announce();
    },
    replaceTrack(stream, oldTrack, newTrack) {
      if (closed) throw new MeshpartyError('closed', 'this media share was destroyed');
      const entry = stream ? published.get(stream.id) : undefined;
      if (!entry || entry.stream !== stream) throw new MeshpartyError('bad-argument', 'replaceTrack() takes a stream published on this share (one whose tracks all ended is no longer shared: publish the new one)');
      const at = entry.tracks.indexOf(oldTrack);
      if (at < 0) throw new MeshpartyError('bad-argument', "replaceTrack(): oldTrack is not one of the stream's shared tracks");
      if (!newTrack || typeof newTrack !== 'object' || typeof (newTrack as MediaStreamTrack).kind !== 'string') throw new MeshpartyError('bad-argument', 'replaceTrack(): newTrack is not a MediaStreamTrack');
      // Another kind would need a media section of its own (a renegotiation): the peers
      // would also get, say, audio where the stream announced video muted or not.
      if (newTrack.kind !== oldTrack.kind) throw new MeshpartyError('bad-argument', `replaceTrack(): a ${oldTrack.kind} track is replaced by a ${oldTrack.kind} track, not ${newTrack.kind}`);
      if (newTrack === oldTrack) return Promise.resolve();
      // A connection sends a track once (one transceiver each), so one shared already stays where it is.
      if ([...published.values()].some((p) => p.tracks.includes(newTrack))) throw new MeshpartyError('bad-argument', 'replaceTrack(): newTrack is already shared (in this stream or another)');
      if (newTrack.readyState === 'ended') throw new MeshpartyError('bad-argument', 'replaceTrack(): newTrack has ended');
      const kind = newTrack.kind as keyof MutedKinds;
      if (kind === 'audio' || kind === 'video') newTrack.enabled = !entry.muted[kind];
      entry.tracks[at] = newTrack;
      // The app's stream follows, so its local preview shows what the peers get.
      if (stream.getTracks().includes(oldTrack)) stream.removeTrack(oldTrack);
      if (!stream.getTracks().includes(newTrack)) stream.addTrack(newTrack);
      // Watched from its `ended` state on: a kind that had ended (an unplugged camera) and
      // is live again is unmarked at the peers by the next check, within a second.
      watchEnded(entry);
      const switched = Promise.all([...connections.values()].map((media) => media.replaceTrack(oldTrack, newTrack))).then(() => {});
      // The encoding stays with the sender; its scale was for the old track's size.
      if (kind === 'video') for (const [peer, media] of connections) media.setEncoding(newTrack, encodingFor(peer, entry, newTrack));
      return switched;
    },
    setViewSize(peer, stream, size) {
      if (closed) throw new MeshpartyError('closed', 'this media share was destroyed');
      const sides = size && typeof size === 'object' ? [size.width, size.height] : [];
      if (sides.length !== 2 || !sides.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0)) {
        throw new MeshpartyError('bad-argument', `setViewSize() takes { width, height }, finite numbers of at least 0; got ${String(sides.join(' × ') || size)}`);
      }
      const remote = shown.get(peer)?.get(stream?.id);
      if (!remote || remote.stream !== stream) return false;
      const [width, height] = sides.map((n) => Math.min(MEDIA_LIMITS.maxViewSide, Math.round(n))) as [number, number];
      hints.set(peer, stream.id, { width, height });
      return true;
    },
    remoteStreams: () => [...shown.values()].flatMap((m) => [...m.values()]),
    on: (event, listener) => events.on(event, listener),
    destroy,
  };
}

/** How often a published stream's tracks are checked for an end that fired no `ended` event. */
const ENDED_CHECK_MS = 1000;

/**
 * The kinds of `tracks` whose tracks have all ended (a kind with no track has not ended).
 */
function endedKinds(tracks: MediaStreamTrack[]): MutedKinds {
  const kindEnded = (kind: string) => {
    const of = tracks.filter((t) => t.kind === kind);
    return of.length > 0 && of.every((t) => t.readyState === 'ended');
  };
  return { audio: kindEnded('audio'), video: kindEnded('video') };
}

/**
 * Call `stop` once every one of `tracks` has ended, and `onKindEnded` when the kinds
 * whose tracks have all ended change from `was` (an unplugged camera, the mic still on:
 * peers would otherwise keep its last frame frozen, with no word of it); returns the
 * function that stops watching. `ended` fires only when the engine ends a track (the
 * browser's "stop sharing" bar, an unplugged camera), never for `track.stop()`, so the
 * tracks are also checked every second: an app that stops its tracks would otherwise
 * leave its peers a frozen tile. `tracks` is read at each check (replaceTrack changes it).
 */
function stopWhenEnded(tracks: MediaStreamTrack[], was: MutedKinds, stop: () => void, onKindEnded: (ended: MutedKinds) => void): () => void {
  let last = was;
  const onEnded = () => {
    if (tracks.length > 0 && tracks.every((t) => t.readyState === 'ended')) return stop();
    const ended = endedKinds(tracks);
    if (ended.audio !== last.audio || ended.video !== last.video) onKindEnded((last = ended));
  };
  const watchable = tracks.filter((t) => typeof t.addEventListener === 'function');
  for (const t of watchable) t.addEventListener('ended', onEnded);
  const timer = setInterval(onEnded, ENDED_CHECK_MS);
  return () => {
    clearInterval(timer);
    for (const t of watchable) t.removeEventListener('ended', onEnded);
  };
}

function peerConnectionConstructor(wrtc: MediaShareOptions['wrtc']): RTCPeerConnectionConstructor {
  if (wrtc) {
    if (typeof wrtc.RTCPeerConnection !== 'function') throw new MeshpartyError('bad-argument', 'options.wrtc has no RTCPeerConnection');
    // The same guard as the mesh's: wrtc's native description getters race its threads.
    const safe = isNodeWebrtc(wrtc as WebRtcImplementation) ? withJsSideDescriptions(wrtc as WebRtcImplementation) : wrtc;
    return safe.RTCPeerConnection as RTCPeerConnectionConstructor;
  }
  const global = (globalThis as { RTCPeerConnection?: RTCPeerConnectionConstructor }).RTCPeerConnection;
  if (!global) throw new MeshpartyError('webrtc-unsupported', 'no RTCPeerConnection here: in Node pass options.wrtc (@roamhq/wrtc)');
  return global;
}
