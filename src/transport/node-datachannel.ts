/**
 * node-datachannel (libdatachannel) as the WebRTC of {@link createSimplePeerTransports}
 * in Node.
 *
 * Why offer it next to `@roamhq/wrtc`: every `RTCDataChannel.send()` in wrtc is a
 * blocking call into libwebrtc's own threads (two thread hops, ~0.1 ms idle and 0.2-0.4 ms
 * on a loaded 2-core machine), so a peer that sends one edit to 7 others spends most of the
 * edit's latency inside `send()`. libdatachannel queues the message on the calling thread
 * (~3 µs per send, measured here), so the same fan-out costs tens of microseconds. It also
 * ships its native binary in a per-platform npm package, so no install script is needed.
 *
 * Its polyfill is close to the browser API. This adapter changes four things: simple-peer
 * rewrites `sdp` on what `createOffer()`/`createAnswer()` return, which the polyfill makes
 * read-only, so it gets plain `{ type, sdp }` copies; candidates inside a remote
 * description are added on their own (see `setRemoteDescription` below); messages reach
 * `onmessage` without a trip through Node's EventTarget (see `directMessages`); and
 * `close()` on a peer connection takes effect a macrotask later, after its channels
 * (see `closeChannelFirst`).
 */
import { MeshpartyError } from '../util/errors.js';
import type { WebRtcImplementation } from './simple-peer.js';

/**
 * The parts of `node-datachannel/polyfill` used here.
 *
 * @example
 * ```ts
 * import * as polyfill from 'node-datachannel/polyfill';
 * const engine: NodeDatachannelPolyfill = polyfill;
 * const transports = createSimplePeerTransports({ wrtc: adaptNodeDatachannel(engine) });
 * ```
 */
export interface NodeDatachannelPolyfill {
  RTCPeerConnection: unknown;
  RTCSessionDescription: unknown;
  RTCIceCandidate: unknown;
}

type Description = { type: string; sdp: string };
type CandidateInit = { candidate: string; sdpMid: string };
type PeerConnectionClass = new (config?: unknown) => {
  createOffer(options?: unknown): Promise<Description>;
  createAnswer(options?: unknown): Promise<Description>;
  setRemoteDescription(description: Description): Promise<void>;
  addIceCandidate(candidate: CandidateInit): Promise<void>;
  readonly signalingState: string;
  close(): void;
  createDataChannel(label: string, options?: unknown): DirectableChannel;
  addEventListener(type: string, listener: (event: { channel?: DirectableChannel }) => void): void;
};
/** The polyfill's RTCDataChannel: an EventTarget with `onmessage`. */
type DirectableChannel = EventTarget & { onmessage: ((event: Event) => void) | null; close(): void };

/** How long a remote candidate is retried while libdatachannel's ICE transport is not up yet. */
const CANDIDATE_RETRY_MS = 5;
const CANDIDATE_RETRY_FOR_MS = 2000;

/**
 * Wrap `node-datachannel/polyfill` so simple-peer (and so meshparty) can use it.
 *
 * @example
 * ```ts
 * import * as polyfill from 'node-datachannel/polyfill';
 * const wrtc = adaptNodeDatachannel(polyfill);
 * const room = joinRoom({ relay: 'ws://127.0.0.1:8787', room: 'demo', WebSocket, wrtc });
 * ```
 */
export function adaptNodeDatachannel(polyfill: NodeDatachannelPolyfill): WebRtcImplementation {
  const Base = polyfill?.RTCPeerConnection as PeerConnectionClass | undefined;
  if (typeof Base !== 'function') {
    throw new MeshpartyError('bad-argument', 'adaptNodeDatachannel needs the module `node-datachannel/polyfill` (it has no RTCPeerConnection)');
  }
  const plain = (d: Description): Description => ({ type: d.type, sdp: d.sdp });
  class PeerConnection extends Base {
    #closing = false;
    constructor(config?: unknown) {
      super(config);
      // Runs after the polyfill's own listener hands the channel to `ondatachannel`, and
      // before the channel can deliver its first message (both happen in one dispatch).
      this.addEventListener('datachannel', (event) => event.channel && this.#own(event.channel));
    }
    /** Closes a macrotask later: see {@link closeChannelFirst}. */
    override close(): void {
      if (this.#closing) return;
      this.#closing = true;
      setImmediate(() => super.close());
    }
    override async createOffer(options?: unknown): Promise<Description> {
      return plain(await super.createOffer(options));
    }
    override async createAnswer(options?: unknown): Promise<Description> {
      return plain(await super.createAnswer(options));
    }
    /**
     * The description without its candidates, then each candidate on its own: a candidate
     * inside a remote description makes libdatachannel throw ("remote candidate without
     * ICE transport") when its ICE transport is not set up yet, which under load happened
     * to about 1 pair in 75 here; a candidate added on its own can wait for it.
     */
    override async setRemoteDescription(description: Description): Promise<void> {
      const lines = description.sdp.split(/\r?\n/);
      const candidates = lines.filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
      const sdpMid = lines.find((l) => l.startsWith('a=mid:'))?.slice(6) ?? '0';
      const bare = description.sdp.replace(/^a=(candidate:|end-of-candidates).*\r?\n/gm, '');
      await super.setRemoteDescription({ type: description.type, sdp: bare });
      for (const candidate of candidates) void this.#addWhenReady({ candidate, sdpMid }, Date.now() + CANDIDATE_RETRY_FOR_MS);
    }
    override createDataChannel(label: string, options?: unknown): DirectableChannel {
      return this.#own(super.createDataChannel(label, options));
    }
    #own(channel: DirectableChannel): DirectableChannel {
      closeChannelFirst(channel, () => this.#closing);
      return directMessages(channel);
    }
    async #addWhenReady(candidate: CandidateInit, until: number): Promise<void> {
      for (;;) {
        try {
          return await super.addIceCandidate(candidate);
        } catch {
          // A lost host candidate: ICE still finds the pair from the other side. Stop on our
          // own close(): libdatachannel never reports signalingState 'closed' (a closed
          // connection reads 'stable'), so that check alone retried for the whole window.
          if (Date.now() > until || this.#closing) return;
          await new Promise((r) => setTimeout(r, CANDIDATE_RETRY_MS));
        }
      }
    }
  }
  return { RTCPeerConnection: PeerConnection, RTCSessionDescription: polyfill.RTCSessionDescription, RTCIceCandidate: polyfill.RTCIceCandidate };
}

/**
 * Close a channel natively before its peer connection, or not at all. Why: releasing a
 * node-datachannel channel while libdatachannel is closing it on its own thread can lose
 * its closed callback; node-datachannel then keeps the channel's thread-safe function,
 * and with it the process, alive for good (a peer process that never exited after
 * `leave()`, 1 CI run; here 1 of 33 runs that closed 20 pairs, both ends at once, left a
 * channel `open` with no `close` event). The polyfill closes a channel natively a
 * macrotask after `close()`, so simple-peer's `channel.close(); pc.close()` had the
 * connection closing, and with it every channel on libdatachannel's threads, by then.
 * Now the connection closes a macrotask later too, after the channel (closed on this
 * thread, which calls its closed callback right there); a channel closed after its
 * connection is left to the connection, which closes it without such a release.
 */
function closeChannelFirst(channel: DirectableChannel, peerConnectionClosing: () => boolean): void {
  const close = channel.close;
  channel.close = function (this: DirectableChannel) {
    if (!peerConnectionClosing()) close.call(this);
  };
}

/**
 * Hand each message event straight to `onmessage`. The polyfill delivers a message by
 * dispatching it through Node's EventTarget to a listener of its own that calls
 * `onmessage`; that dispatch was 14 µs of the ~250 µs a receiver spends on a small Yjs
 * edit in the N = 8 bench (cold code: each edit finds the process asleep). Once anyone
 * adds a `message` listener of their own, messages go through the EventTarget again.
 */
function directMessages(channel: DirectableChannel): DirectableChannel {
  const target = EventTarget.prototype;
  let listened = false;
  channel.addEventListener = function (this: EventTarget, ...args: Parameters<EventTarget['addEventListener']>) {
    if (args[0] === 'message') listened = true;
    return target.addEventListener.apply(this, args);
  };
  channel.dispatchEvent = function (this: DirectableChannel, event: Event) {
    if (event.type !== 'message' || listened) return target.dispatchEvent.call(this, event);
    this.onmessage?.(event);
    return true;
  };
  return channel;
}
