/**
 * The WebRTC {@link PeerTransport}, over simple-peer: one RTCPeerConnection per remote
 * peer carrying two data channels.
 *  - reliable ordered: simple-peer's own channel (it drives offer/answer/ICE for it);
 *  - unordered unreliable (`ordered: false, maxRetransmits: 0`): a pre-negotiated
 *    channel (`negotiated: true` with a fixed id) created on both sides on simple-peer's
 *    RTCPeerConnection, so it needs no second connection and no extra signaling.
 * `open` fires once both channels are open; `maxMessageSize` comes from the negotiated
 * SCTP limit, capped by `maxFrameBytes`.
 */
import SimplePeer from '#simple-peer';
import type { Instance as SimplePeerInstance } from 'simple-peer';
import { type Clock, realClock } from '../util/clock.js';
import { Emitter } from '../util/emitter.js';
import { MeshpartyError } from '../util/errors.js';
import type { PeerId } from '../signaling-client/protocol.js';
import type { Reliability } from './types.js';
import { CandidateBatcher, unbatch } from './candidate-batcher.js';
import { ChannelPressure } from './channel-pressure.js';
import { fromSimplePeerError, signalProblem } from './simple-peer-errors.js';
import { isNodeWebrtc, withJsSideDescriptions } from './wrtc-descriptions.js';
import type { PeerTransport, PeerTransportEvents, PeerTransportFactory } from './types.js';

/**
 * A WebRTC implementation: the browser's globals, or in Node `adaptNodeDatachannel(node-datachannel/polyfill)` or `@roamhq/wrtc`.
 *
 * @example
 * ```ts
 * import * as polyfill from 'node-datachannel/polyfill';
 * const wrtc: WebRtcImplementation = adaptNodeDatachannel(polyfill);
 * const room = await joinRoom({ relay, room: 'demo', wrtc });
 * ```
 */
export interface WebRtcImplementation {
  RTCPeerConnection: unknown;
  RTCSessionDescription: unknown;
  RTCIceCandidate: unknown;
}

/**
 * Options of {@link createSimplePeerTransports}.
 *
 * @example
 * ```ts
 * const transports = createSimplePeerTransports({
 *   iceServers: [{ urls: 'stun:stun.example.org:3478' }, { urls: 'turn:turn.example.org:3478', username, credential }],
 *   maxFrameBytes: 64 * 1024,
 * });
 * ```
 */
export interface SimplePeerTransportOptions {
  /** WebRTC implementation; default: the browser's globals. In Node pass `adaptNodeDatachannel(polyfill)` (node-datachannel) or `@roamhq/wrtc`. */
  wrtc?: WebRtcImplementation;
  /**
   * STUN/TURN servers. Default none: peers on the same host or LAN connect; peers behind
   * different NATs need at least a STUN server (and a TURN server for strict NATs).
   */
  iceServers?: RTCIceServer[];
  /**
   * Largest frame, bytes (default 256 KiB), further capped by the connection's negotiated
   * SCTP max message size (256 KiB in Chromium, @roamhq/wrtc and node-datachannel). Measured here, one
   * 64 MiB message through a mesh channel between two wrtc peers: 256 KiB frames median
   * 59 MB/s against 44 MB/s for 64 KiB (5 alternating rounds, busy machine), and a raw
   * data channel shows the same order (16 < 64 < 256 KiB). A control message waits
   * behind at most one frame (about 5 ms at these rates); the send queue's high-water
   * mark, not the frame size, bounds that latency.
   */
  maxFrameBytes?: number;
  /** `drain` threshold, bytes (default 256 KiB). */
  lowWaterMark?: number;
  /** Stream id of the pre-negotiated unreliable channel, an integer 0-65534 (else `bad-argument`); both sides must agree (default 1000). */
  unreliableChannelId?: number;
  /** Where `bufferedamountlow` does not exist (Node's wrtc), poll this often while above the mark (default 2 ms). */
  pollIntervalMs?: number;
  /**
   * An offer or answer waits at most this long (less once the burst of host candidates
   * is over, or ICE gathering completes) and then goes with every candidate gathered by
   * then inside its SDP; candidates gathered later go as one signal per window. 0 sends
   * the description without waiting, and each later candidate on the next timer tick
   * (default 20 ms).
   */
  candidateBatchMs?: number;
  /** Also send ICE-TCP candidates (default false: UDP only, far fewer signals). */
  iceTcp?: boolean;
  /**
   * Also send loopback candidates (127.0.0.1, ::1) when a routable address of the same
   * family is offered (default false: like browsers, which never offer them; peers on
   * one host reach each other's routable address, with half the candidate pairs to check).
   */
  iceLoopback?: boolean;
  /** Timers for backpressure polling and candidate batching (default: the real clock). */
  clock?: Clock;
  /** Where dropped signals and frames are reported (default: console warnings). */
  logger?: { warn(message: string, detail?: Record<string, unknown>): void };
}

const DEFAULT_MAX_FRAME = 256 * 1024;
/** What browsers accept without negotiation; used if the SCTP transport reports nothing. */
const SAFE_FRAME = 16 * 1024;

/** The RTCDataChannel members used here (browser and wrtc alike). */
interface DataChannelLike {
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold?: number;
  binaryType: string;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: Uint8Array): void;
  close(): void;
}

interface PeerConnectionLike {
  createDataChannel(label: string, init: RTCDataChannelInit): DataChannelLike;
  addEventListener(type: 'datachannel', listener: (ev: { channel: DataChannelLike & EventTargetLike }) => void): void;
  addEventListener(type: 'icecandidate', listener: (ev: { candidate: unknown }) => void): void;
  addEventListener(type: 'connectionstatechange', listener: () => void): void;
  readonly connectionState?: string;
  addEventListener(type: 'icegatheringstatechange', listener: () => void): void;
  readonly iceGatheringState?: string;
  readonly sctp?: { maxMessageSize?: number } | null;
  readonly localDescription: { type: string; sdp: string } | null;
}

interface EventTargetLike {
  addEventListener(type: 'open', listener: () => void): void;
}

/** simple-peer's private members this file relies on (stable across simple-peer 9.x). */
interface SimplePeerInternals {
  _pc: PeerConnectionLike | null;
  _channel: (DataChannelLike & EventTargetLike) | null;
}

/** A Node Buffer or any byte view, as a plain Uint8Array over the same memory (no copy). */
function asBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

class SimplePeerTransport implements PeerTransport {
  readonly #events = new Emitter<PeerTransportEvents>();
  readonly #peer: SimplePeerInstance & SimplePeerInternals;
  #unreliable: DataChannelLike | undefined;
  #pressure: Record<Reliability, ChannelPressure> | undefined;
  #reliable: DataChannelLike | undefined;
  #open = false;
  #destroyed = false;
  #maxMessageSize = SAFE_FRAME;
  readonly #outbox: CandidateBatcher;

  constructor(
    readonly remoteId: PeerId,
    readonly initiator: boolean,
    private readonly opts: Required<Omit<SimplePeerTransportOptions, 'wrtc' | 'iceServers'>> & SimplePeerTransportOptions,
  ) {
    const peer = new SimplePeer({
      initiator,
      wrtc: opts.wrtc as SimplePeer.Options['wrtc'],
      config: { iceServers: opts.iceServers ?? [] },
      trickle: true,
    }) as SimplePeerInstance & SimplePeerInternals;
    this.#peer = peer;
    const pc = peer._pc;
    if (!pc) {
      // simple-peer destroys itself and emits that error a tick later (a TURN server
      // without credentials, an unparseable ICE URL); with no listener, that emit would
      // be an uncaught exception after the caller has already caught ours.
      peer.on('error', () => {});
      throw new MeshpartyError('webrtc-unsupported', 'RTCPeerConnection could not be created');
    }
    this.#outbox = new CandidateBatcher(
      opts.clock,
      { windowMs: opts.candidateBatchMs, tcp: opts.iceTcp, loopback: opts.iceLoopback },
      (signal) => {
        if (!this.#destroyed) this.#events.emit('signal', signal);
      },
      () => pc.localDescription,
    );
    pc.addEventListener('icecandidate', (ev) => {
      if (!ev.candidate) this.#outbox.gatheringComplete();
    });
    // libdatachannel announces the end of gathering only as a state change (no null candidate).
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') this.#outbox.gatheringComplete();
    });
    // The initiator creates it now, before simple-peer's first offer (it waits a
    // microtask); a negotiated channel needs no SDP of its own, only the SCTP association
    // simple-peer's channel sets up. The responder creates it once the remote offer is
    // applied: libdatachannel answers a channel created before that with an offer of its
    // own, and the pair then fights over the ICE role (seen as a one-second DTLS retry).
    if (initiator) {
      try {
        this.#createUnreliable(pc);
      } catch (err) {
        // The engine refused the channel (an id out of range): nobody gets this transport
        // to destroy, so close the connection simple-peer made, which otherwise kept the
        // process alive for good (and a mesh retrying the peer made one more each time).
        this.#releasePeer();
        throw err;
      }
    }

    // Open as soon as both channels are: simple-peer's own `connect` comes later, after
    // a getStats() round trip (and a 100 ms retry when it finds no selected pair yet),
    // which only fills in address fields nothing here uses. Our listener on the
    // reliable channel is added next to simple-peer's (its channel, created here for the
    // initiator, or announced by `datachannel` on the responder).
    const watch = (ch: DataChannelLike & EventTargetLike) => {
      ch.addEventListener('open', () => this.#maybeOpen());
      if (ch.readyState === 'open') queueMicrotask(() => this.#maybeOpen());
      // Frames straight from the channel, in place of simple-peer's handler: it copies each
      // one into a Buffer and passes it through a Readable stream before `data` fires,
      // code that runs cold on every sporadic edit (a frame arriving after the process
      // slept is handled several times slower than a hot one, so less code is less latency).
      // On the responder simple-peer takes the channel in its own `datachannel` handler,
      // which some stacks (wrtc) call after ours: take it over again a microtask later.
      const own = (ev: { data: unknown }) => this.#receive('reliable', ev.data);
      const takeOver = () => {
        ch.binaryType = 'arraybuffer';
        ch.onmessage = own;
      };
      takeOver();
      queueMicrotask(takeOver);
    };
    if (peer._channel) watch(peer._channel);
    else pc.addEventListener('datachannel', (ev) => watch(ev.channel));
    // libdatachannel now and then closes a connection on its own while it is being set up
    // (about 1 pair in 150 on a loaded machine, as the answer is applied) and says so only
    // through connectionState 'closed', which simple-peer ignores: without this the pair
    // would sit there until the mesh's connect timeout. Browsers never fire it (a local
    // close() is silent), and our own destroy() comes first. Once open, the same state is
    // how libdatachannel reports the other side closing: a plain close, not a failure.
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState !== 'closed' || this.#destroyed) return;
      if (this.#open) return this.destroy();
      this.destroy(new MeshpartyError('connection-failed', `the connection to ${this.remoteId} was closed by the WebRTC stack`, { peer: this.remoteId }));
    });
    peer.on('signal', (data) => this.#outbox.push(data));
    peer.on('connect', () => this.#maybeOpen());
    peer.on('error', (err) => this.destroy(fromSimplePeerError(err)));
    peer.on('close', () => this.destroy());
  }

  get maxMessageSize(): number {
    return this.#maxMessageSize;
  }

  get lowWaterMark(): number {
    return this.opts.lowWaterMark;
  }

  signal(data: unknown): void {
    if (this.#destroyed) return;
    const signals = unbatch(data);
    if (!signals) return this.opts.logger.warn('dropped a malformed candidate batch', { peer: this.remoteId });
    for (const one of signals) {
      const problem = signalProblem(one);
      if (problem) {
        this.opts.logger.warn('dropped a malformed WebRTC signal', { peer: this.remoteId, problem });
        continue;
      }
      try {
        this.#peer.signal(one as SimplePeer.SignalData);
        // simple-peer hands the offer to the connection synchronously (its answer comes later).
        if (!this.#unreliable && (one as { type?: unknown }).type === 'offer' && this.#peer._pc) this.#createUnreliable(this.#peer._pc);
      } catch (err) {
        this.opts.logger.warn('WebRTC refused a signal', { peer: this.remoteId, error: String(err) });
      }
    }
  }

  send(reliability: Reliability, data: Uint8Array): void {
    if (!this.#open || this.#destroyed || !this.#pressure) {
      throw new MeshpartyError('not-open', `transport to ${this.remoteId} is not open`, { peer: this.remoteId });
    }
    if (!(data instanceof Uint8Array)) throw new MeshpartyError('bad-argument', 'frame must be a Uint8Array');
    if (data.byteLength > this.#maxMessageSize) {
      throw new MeshpartyError('frame-too-large', `frame of ${data.byteLength} bytes over ${this.#maxMessageSize}`, {
        bytes: data.byteLength,
        maxMessageSize: this.#maxMessageSize,
      });
    }
    const channel = reliability === 'reliable' ? this.#reliable! : this.#unreliable!;
    try {
      channel.send(data);
    } catch (err) {
      // A browser throws when its send buffer (16 MiB in Chromium) is full or the channel is closing.
      throw new MeshpartyError('send-failed', `data channel refused a frame: ${String(err)}`, { peer: this.remoteId });
    }
    this.#pressure[reliability].sent(data.byteLength);
  }

  bufferedAmount(reliability: Reliability): number {
    return this.#pressure?.[reliability].amount ?? 0;
  }

  on<K extends keyof PeerTransportEvents>(event: K, listener: (value: PeerTransportEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  destroy(err?: MeshpartyError): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#open = false;
    this.#outbox.stop();
    this.#pressure?.reliable.stop();
    this.#pressure?.unreliable.stop();
    const u = this.#unreliable;
    if (u) {
      u.onopen = u.onclose = u.onerror = u.onmessage = null;
      try {
        u.close();
      } catch {
        // Already closed with its connection.
      }
    }
    this.#releasePeer();
    // Like simple-peer: events after the current call stack, `error` first.
    queueMicrotask(() => {
      if (err) this.#events.emit('error', err);
      this.#events.emit('close', { reason: err ? err.code : 'closed' });
      this.#events.clear();
    });
  }

  /** Destroy simple-peer (and so its connection) without hearing from it again. */
  #releasePeer(): void {
    this.#peer.removeAllListeners();
    this.#peer.on('error', () => {}); // a late error from simple-peer's own teardown must not be unhandled
    this.#peer.destroy();
    // simple-peer never clears its ICE-complete timer (5 s from the first candidate; with
    // trickle on it decides nothing): a peer that left within 5 s of connecting kept Node
    // running until it fired.
    clearTimeout((this.#peer as { _iceCompleteTimer?: ReturnType<typeof setTimeout> })._iceCompleteTimer);
  }

  #createUnreliable(pc: PeerConnectionLike): void {
    const u = pc.createDataChannel('meshparty-unreliable', {
      negotiated: true,
      id: this.opts.unreliableChannelId,
      ordered: false,
      maxRetransmits: 0,
    });
    this.#unreliable = u;
    u.binaryType = 'arraybuffer';
    u.onopen = () => this.#maybeOpen();
    u.onmessage = (ev) => this.#receive('unreliable', ev.data);
    // Closed while open: the other side closing (its channels go first on node-datachannel), a plain close.
    u.onclose = () => this.destroy();
    u.onerror = (ev) => this.destroy(fromSimplePeerError(Object.assign(new Error(`unreliable channel: ${String((ev as { message?: unknown })?.message ?? 'error')}`), { code: 'ERR_DATA_CHANNEL' })));
    if (u.readyState === 'open') queueMicrotask(() => this.#maybeOpen());
  }

  #maybeOpen(): void {
    const unreliable = this.#unreliable;
    if (this.#open || this.#destroyed || unreliable?.readyState !== 'open') return;
    const reliable = this.#peer._channel;
    if (reliable?.readyState !== 'open') return;
    const sctpMax = this.#peer._pc?.sctp?.maxMessageSize;
    this.#reliable = reliable;
    // Infinity (or 0 on some stacks) means "no limit announced"; the frame cap still applies.
    const negotiated = typeof sctpMax === 'number' && sctpMax > 0 ? sctpMax : SAFE_FRAME;
    this.#maxMessageSize = Math.min(this.opts.maxFrameBytes, negotiated);
    const pressure = (rel: Reliability, ch: DataChannelLike) =>
      new ChannelPressure(ch, this.opts.lowWaterMark, this.opts.clock, this.opts.pollIntervalMs, () => {
        if (!this.#destroyed) this.#events.emit('drain', { reliability: rel });
      });
    this.#pressure = { reliable: pressure('reliable', reliable), unreliable: pressure('unreliable', unreliable) };
    this.#open = true;
    this.#events.emit('open', undefined);
  }

  #receive(reliability: Reliability, data: unknown): void {
    if (this.#destroyed) return;
    const bytes = asBytes(data);
    if (!bytes) {
      this.opts.logger.warn('dropped a non-binary data-channel message', { peer: this.remoteId, reliability });
      return;
    }
    this.#events.emit('frame', { reliability, data: bytes });
  }
}

/**
 * WebRTC transports for {@link createMesh}: one RTCPeerConnection per remote peer with a
 * reliable ordered and an unordered unreliable data channel.
 *
 * @example
 * ```ts
 * // Node: inject a WebRTC implementation (node-datachannel, or @roamhq/wrtc).
 * import * as polyfill from 'node-datachannel/polyfill';
 * const transports = createSimplePeerTransports({ wrtc: adaptNodeDatachannel(polyfill) });
 * // Browser: the globals are used; add STUN for peers behind NATs.
 * const web = createSimplePeerTransports({ iceServers: [{ urls: 'stun:stun.example.org:3478' }] });
 * ```
 */
export function createSimplePeerTransports(options: SimplePeerTransportOptions = {}): PeerTransportFactory {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME;
  if (!(maxFrameBytes >= 1024)) throw new MeshpartyError('bad-argument', `maxFrameBytes must be at least 1024, got ${maxFrameBytes}`);
  // NaN (a number parsed from an unset variable) would never compare above the mark: no
  // `drain`, and the mesh's high-water mark (never below this one) would let its send
  // queue overflow the engine's buffer, which closes the channel.
  if (options.lowWaterMark !== undefined && !(options.lowWaterMark >= 0 && Number.isFinite(options.lowWaterMark))) {
    throw new MeshpartyError('bad-argument', `lowWaterMark must be a finite number of bytes, got ${options.lowWaterMark}`);
  }
  // A data channel's stream id is 0-65534. Out of range the engine refuses the channel
  // (transport-failed on every connection); a fraction or NaN it takes as some other id,
  // which no default peer shares, so the unreliable channel never opened and no pair did.
  const id = options.unreliableChannelId;
  if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id <= 65534)) {
    throw new MeshpartyError('bad-argument', `unreliableChannelId must be an integer from 0 to 65534, got ${id}`);
  }
  const opts = {
    ...options,
    // wrtc's native description getters race its own threads (see wrtc-descriptions.ts).
    wrtc: options.wrtc && isNodeWebrtc(options.wrtc) ? withJsSideDescriptions(options.wrtc) : options.wrtc,
    maxFrameBytes,
    lowWaterMark: options.lowWaterMark ?? 256 * 1024,
    unreliableChannelId: options.unreliableChannelId ?? 1000,
    pollIntervalMs: options.pollIntervalMs ?? 2,
    candidateBatchMs: options.candidateBatchMs ?? 20,
    iceTcp: options.iceTcp ?? false,
    iceLoopback: options.iceLoopback ?? false,
    clock: options.clock ?? realClock(),
    logger: options.logger ?? { warn: (message: string, detail?: Record<string, unknown>) => console.warn(`[meshparty] ${message}`, detail ?? '') },
  };
  return {
    create: ({ remoteId, initiator }) => {
      try {
        return new SimplePeerTransport(remoteId, initiator, opts);
      } catch (err) {
        throw fromSimplePeerError(err);
      }
    },
  };
}
