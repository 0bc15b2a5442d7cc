/**
 * The media connection to one remote peer: its own RTCPeerConnection, negotiated over the
 * mesh (not the relay) with the "perfect negotiation" pattern, so either side may add or
 * remove tracks at any time and offers that cross are settled without a lost update.
 *
 * Why a second connection and not tracks on the data connection: renegotiating media
 * (a camera added, a screen share stopped) then can never disturb the connection that
 * carries the document and the game, and its glare stays confined to media. The cost is
 * one more ICE and DTLS handshake per pair, made only once somebody shares a stream.
 */
import { MeshpartyError } from '../util/errors.js';
import type { Logger } from '../mesh/logger.js';
import type { PeerId } from '../mesh/types.js';
import { type MediaMessage, MEDIA_LIMITS } from './media-wire.js';
import { SenderEncoding } from './sender-encoding.js';
import { type SendEncoding, fullEncoding } from './view-encoding.js';

/** What a PeerMedia needs from the media share that owns it. */
export interface PeerMediaHost {
  /** Send a message to this connection's peer over the mesh. */
  send(message: MediaMessage): void;
  /** A remote track arrived, in `stream` (the publisher's stream, same id). */
  onStream(stream: MediaStream): void;
  /** A problem worth an `error` event (the connection keeps going where it can). */
  onProblem(err: MeshpartyError): void;
  readonly logger: Logger;
}

type Description = { type: 'offer' | 'answer' | 'rollback'; sdp?: string };
type SignalingPc = RTCPeerConnection & { setLocalDescription(d?: Description): Promise<void> };

/**
 * How long a media connection may stay disconnected before it counts as failed (and is
 * restarted). libwebrtc turns a dead path 'disconnected' in ~6 s, 'failed' ~10 s later.
 */
const DISCONNECTED_MS = 10_000;

/**
 * How long the polite side of a failed connection waits for the impolite side's ICE
 * restart before it restarts itself. The impolite side's, when its ICE failed too, has the
 * connection back within half a second or so on loopback; a few seconds more in a real network.
 */
const POLITE_RESTART_DELAY_MS = 2000;

/**
 * The ICE username fragment of a session description's live transport: that of its first
 * media section not rejected (port 0, unless bundle-only), '' if none is live. When every
 * section is rejected (the peer stopped its last stream) the engine drops the transport,
 * and the next share brings a new one with new credentials: not a restart of a live one.
 */
function iceUfrag(sdp: string): string {
  const [session = '', ...sections] = sdp.split(/\r?\n(?=m=)/);
  const ufragOf = (text: string) => /^a=ice-ufrag:(\S+)/m.exec(text)?.[1];
  if (sections.length === 0) return ufragOf(session) ?? '';
  const live = sections.find((m) => !/^m=\S+ 0 /.test(m) || /^a=bundle-only/m.test(m));
  return live === undefined ? '' : (ufragOf(live) ?? ufragOf(session) ?? '');
}

/** A random connection session id (not secret: it only tells connections apart). */
function newSession(): string {
  return Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
}

/** One remote peer's media connection. */
export class PeerMedia {
  /** This connection's session id, sent in every message as `s`. */
  readonly session = newSession();
  /** The remote connection's session id we are paired with; '' until its first message. */
  remoteSession = '';
  /**
   * The session of our connection this one replaced to answer the peer's crossing offer
   * (see yieldsTo), or ''. The peer received that connection's offer, so it addresses
   * its candidates to it until our answer arrives: they belong here.
   */
  former = '';
  /** Candidates the peer sent since its ICE credentials last changed (media-share.ts caps them). */
  candidates = 0;
  /** The peer's ICE username fragment in its last description: a new one is an ICE restart. */
  #remoteUfrag = '';
  readonly #pc: SignalingPc;
  readonly #polite: boolean;
  readonly #host: PeerMediaHost;
  readonly #peer: PeerId;
  readonly #sending = new Map<MediaStreamTrack, RTCRtpTransceiver>();
  /** Each video transceiver's encoding (its size and bitrate for this peer), kept across replaceTrack. */
  readonly #encodings = new Map<RTCRtpTransceiver, SenderEncoding>();
  /** Bumped by every local track change; `#negotiated` is the value our last answered offer carried. */
  #changes = 0;
  #negotiated = 0;
  #makingOffer = false;
  #ignoreOffer = false;
  /** Whether a description of the peer's was ever set on this connection. */
  #heard = false;
  /** Messages received and not yet applied: no offer of ours starts while one waits. */
  #pending = 0;
  /** Of those, the offers and answers, and the bytes of all (both capped: see MEDIA_LIMITS). */
  #pendingDescriptions = 0;
  #pendingBytes = 0;
  /** Whether this engine lacks the argument-less setLocalDescription (@roamhq/wrtc). */
  #explicitDescriptions = false;
  /** Remote messages are applied one at a time, in order. */
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  /** Whether the connection was reported lost and is not checking again yet (see #lost). */
  #down = false;
  /** Running while the connection is disconnected: then it counts as lost. */
  #downTimer: ReturnType<typeof setTimeout> | undefined;
  /** The polite side's pending ICE restart (see #lost). */
  #politeRestart: ReturnType<typeof setTimeout> | undefined;

  constructor(peer: PeerId, selfId: PeerId, pc: RTCPeerConnection, host: PeerMediaHost) {
    this.#peer = peer;
    // The polite side yields when offers cross; the ids decide, the same way on both ends.
    this.#polite = selfId > peer;
    this.#pc = pc as SignalingPc;
    this.#host = host;
    pc.onnegotiationneeded = () => void this.#negotiate();
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate || !candidate.candidate) return;
      this.#send({ v: 1, t: 'candidate', s: '', to: '', candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null });
    };
    pc.ontrack = (event) => {
      for (const stream of event.streams) host.onStream(stream);
    };
    pc.oniceconnectionstatechange = pc.onconnectionstatechange = () => this.#watchState();
  }

  /**
   * Send `track` (of `stream`) to this peer, video with `encoding` (its size and bitrate
   * cap; default full size, no cap); renegotiates. Always on a transceiver of its
   * own: `addTrack` may reuse one whose track was removed before it was ever negotiated,
   * and the receiver then gets the new track on the old receiver with no `track` event,
   * so it never learns the new stream arrived (found by the media fuzz).
   */
  addTrack(track: MediaStreamTrack, stream: MediaStream, encoding: SendEncoding = fullEncoding(undefined)): void {
    if (this.#closed || this.#sending.has(track)) return;
    const init: RTCRtpTransceiverInit = { direction: 'sendonly', streams: [stream] };
    const video = track.kind === 'video';
    // Set with the transceiver, so the very first frames already keep to it.
    const { active, scaleResolutionDownBy, maxBitrate } = encoding;
    if (video && (maxBitrate !== undefined || !active || scaleResolutionDownBy !== 1)) {
      init.sendEncodings = [{ active, ...(scaleResolutionDownBy !== 1 ? { scaleResolutionDownBy } : {}), ...(maxBitrate !== undefined ? { maxBitrate } : {}) }];
    }
    const transceiver = this.#pc.addTransceiver(track, init);
    this.#sending.set(track, transceiver);
    if (video) {
      // Once per sender: an engine that refuses (@roamhq/wrtc 0.10, once negotiated) refuses every change.
      let told = false;
      const refused = (err: unknown) => {
        if (!told) this.#host.logger.warn('media: the engine refused a change of encoding (the peer keeps the previous size)', { peer: this.#peer, error: String(err) });
        told = true;
      };
      this.#encodings.set(transceiver, new SenderEncoding(transceiver.sender, encoding, refused));
    }
    this.#changed();
  }

  /**
   * Encode video `track` for this peer with `encoding` from now on (RTCRtpSender.setParameters,
   * at most every 250 ms: no renegotiation). Nothing for a track not sent here or not video.
   */
  setEncoding(track: MediaStreamTrack, encoding: SendEncoding): void {
    const transceiver = this.#sending.get(track);
    if (!this.#closed && transceiver) this.#encodings.get(transceiver)?.set(encoding);
  }

  /** Whether `track` is sent on this connection. */
  sends(track: MediaStreamTrack): boolean {
    return this.#sending.has(track);
  }

  /**
   * Send `next` in place of `track` on the same transceiver (RTCRtpSender.replaceTrack):
   * no renegotiation, so no offer and nothing the peer counts; its encodings (the
   * stream's maxBitrate) stay. The caller checks the kinds match. Resolves once the engine
   * sends `next`; a refusal is reported (`media-negotiation-failed`), not thrown.
   */
  async replaceTrack(track: MediaStreamTrack, next: MediaStreamTrack): Promise<void> {
    const transceiver = this.#sending.get(track);
    if (this.#closed || !transceiver || this.#sending.has(next)) return;
    // Rekeyed at once: a removeTrack or a later replacement names the new track.
    this.#sending.delete(track);
    this.#sending.set(next, transceiver);
    try {
      await transceiver.sender.replaceTrack(next);
    } catch (err) {
      // Still the transceiver's track to send (not removed or replaced again meanwhile): the peer keeps the old picture.
      if (this.#sending.get(next) === transceiver) this.#problem('media-negotiation-failed', `could not switch a ${next.kind} track`, err);
    }
  }

  /** This connection's WebRTC statistics. */
  stats(): Promise<RTCStatsReport> {
    return this.#pc.getStats();
  }

  /** Stop sending `track`; renegotiates (its transceiver is stopped, so its m-line can be reused). */
  removeTrack(track: MediaStreamTrack): void {
    const transceiver = this.#sending.get(track);
    if (this.#closed || !transceiver) return;
    this.#sending.delete(track);
    this.#encodings.get(transceiver)?.close();
    this.#encodings.delete(transceiver);
    if (typeof transceiver.stop === 'function') transceiver.stop();
    else this.#pc.removeTrack(transceiver.sender);
    this.#changed();
  }

  /**
   * Queue one checked message from the peer (offer, answer or candidate for this session),
   * `bytes` long on the wire, to be applied after those before it. Returns why it was
   * refused instead (nothing of it is used then), when the peer already has as many
   * waiting as an honest one ever could (MEDIA_LIMITS.maxWaitingDescriptions, maxWaitingBytes).
   */
  receive(message: Extract<MediaMessage, { s: string }>, bytes: number): string | undefined {
    const description = message.t !== 'candidate';
    if (description && this.#pendingDescriptions >= MEDIA_LIMITS.maxWaitingDescriptions) {
      return `${message.t}: more than ${MEDIA_LIMITS.maxWaitingDescriptions} offers and answers waiting on one connection`;
    }
    if (this.#pendingBytes + bytes > MEDIA_LIMITS.maxWaitingBytes) {
      return `${message.t}: more than ${MEDIA_LIMITS.maxWaitingBytes} bytes of messages waiting on one connection`;
    }
    if (this.remoteSession === '') this.remoteSession = message.s;
    if (message.t !== 'candidate') {
      // An ICE restart: the engine drops the old candidates, so the count starts again.
      const ufrag = iceUfrag(message.sdp);
      if (ufrag !== this.#remoteUfrag) [this.#remoteUfrag, this.candidates] = [ufrag, 0];
    }
    // Counted now, so a connection made for an incoming offer answers it before it offers
    // its own tracks (its first negotiation would otherwise cross the offer it answers).
    this.#pending++;
    this.#pendingBytes += bytes;
    if (description) this.#pendingDescriptions++;
    this.#queue = this.#queue.then(async () => {
      try {
        await this.#apply(message);
      } finally {
        this.#pending--;
        this.#pendingBytes -= bytes;
        if (description) this.#pendingDescriptions--;
      }
      // A change made while this exchange ran (or an offer of ours rolled back) still needs one.
      if (this.#pc.signalingState === 'stable') void this.#negotiate();
    });
    return undefined;
  }

  /**
   * Whether an offer from the peer should replace this connection instead of being
   * answered on it: we are the polite side and our first offer is unanswered. Perfect
   * negotiation would roll that offer back, but a rollback that comes before the offer's
   * first ICE candidate leaves Chromium gathering none ever again on that connection (ICE
   * stays 'new', never 'failed', and no media flows, even after an ICE restart): seen in
   * most runs of three video demo pages joining together. A new connection answering the
   * offer has nothing to roll back.
   */
  yieldsTo(message: MediaMessage): boolean {
    return message.t === 'offer' && this.#polite && !this.#heard && (this.#makingOffer || this.#pc.signalingState === 'have-local-offer');
  }

  /** Whether the peer's `sdp` restarts ICE: new credentials for a live transport (the engine gathers candidates anew). */
  restartsIce(sdp: string): boolean {
    const ufrag = iceUfrag(sdp);
    return this.#remoteUfrag !== '' && ufrag !== '' && ufrag !== this.#remoteUfrag;
  }

  /** Whether a message the peer addressed to `to` is meant for this connection. */
  isFor(to: string): boolean {
    return to === '' || to === this.session || (this.former !== '' && to === this.former);
  }

  /** Close the connection; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const encoding of this.#encodings.values()) encoding.close();
    clearTimeout(this.#politeRestart);
    clearTimeout(this.#downTimer);
    this.#pc.onnegotiationneeded = this.#pc.onicecandidate = this.#pc.ontrack = this.#pc.onconnectionstatechange = this.#pc.oniceconnectionstatechange = null;
    this.#pc.close();
  }

  #changed(): void {
    this.#changes++;
    // Engines fire negotiationneeded themselves; this covers a change made while an
    // exchange was under way (checked again once it is over).
    queueMicrotask(() => void this.#negotiate());
  }

  async #negotiate(): Promise<void> {
    if (this.#closed || this.#makingOffer || this.#pending > 0 || this.#pc.signalingState !== 'stable' || this.#negotiated === this.#changes) return;
    const carrying = this.#changes;
    try {
      this.#makingOffer = true;
      const made = await this.#setLocal('offer');
      if (this.#closed || !made) return;
      // An offer that came in meanwhile makes the argument-less form answer it instead.
      if (made.type === 'offer') this.#offerCarries = carrying;
      this.#send({ v: 1, t: made.type, s: '', to: '', sdp: made.sdp });
    } catch (err) {
      this.#problem('media-negotiation-failed', 'could not make an offer', err);
    } finally {
      this.#makingOffer = false;
    }
  }

  /** The change count the offer in flight carries. */
  #offerCarries = 0;

  async #apply(message: Extract<MediaMessage, { s: string }>): Promise<void> {
    if (this.#closed) return;
    const pc = this.#pc;
    try {
      if (message.t === 'candidate') {
        try {
          await pc.addIceCandidate({ candidate: message.candidate, sdpMid: message.sdpMid, sdpMLineIndex: message.sdpMLineIndex });
        } catch (err) {
          // Candidates of an offer we ignored cannot be added: expected, not a problem.
          if (!this.#ignoreOffer) this.#host.logger.warn('media: a candidate from a peer was refused', { peer: this.#peer, error: String(err) });
        }
        return;
      }
      const collision = message.t === 'offer' && (this.#makingOffer || pc.signalingState !== 'stable');
      this.#ignoreOffer = !this.#polite && collision;
      if (this.#ignoreOffer) return;
      if (message.t === 'answer' && pc.signalingState !== 'have-local-offer') return; // a stale answer
      // Engines without implicit rollback (@roamhq/wrtc) need it spelled out.
      if (collision && pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
      await pc.setRemoteDescription({ type: message.t, sdp: message.sdp });
      this.#heard = true;
      if (message.t === 'answer') this.#negotiated = Math.max(this.#negotiated, this.#offerCarries);
      if (message.t === 'offer') {
        const made = await this.#setLocal('answer');
        if (made && !this.#closed) this.#send({ v: 1, t: made.type, s: '', to: '', sdp: made.sdp });
      }
    } catch (err) {
      this.#problem('media-negotiation-failed', `could not apply the peer's ${message.t}`, err, true);
    }
  }

  /**
   * Watch the connection's state: one that fails, or stays disconnected too long, is
   * reported and restarted (#lost). ICE's own state is watched as well as the connection's:
   * over @roamhq/wrtc ICE can fail while the connection stays 'disconnected'.
   */
  #watchState(): void {
    if (this.#closed) return;
    const states: string[] = [this.#pc.iceConnectionState, this.#pc.connectionState];
    if (states.includes('failed')) return this.#lost('failed');
    if (states.includes('disconnected')) {
      // Most come back by themselves within seconds. One that does not may never fail
      // either: over @roamhq/wrtc one side of a dead path often stays 'disconnected' for
      // good (and a failed one that still receives the peer's checks turns back to it,
      // with no event), no media flowing.
      this.#downTimer ??= setTimeout(() => {
        this.#downTimer = undefined;
        const now: string[] = [this.#pc.iceConnectionState, this.#pc.connectionState];
        if (!this.#closed && (now.includes('disconnected') || now.includes('failed'))) this.#lost(`disconnected for ${DISCONNECTED_MS / 1000} s`);
      }, DISCONNECTED_MS);
      return;
    }
    clearTimeout(this.#downTimer);
    this.#downTimer = undefined;
    this.#down = false; // checking again (a restart under way), or back
  }

  /** Report the connection lost (once until it is checking again) and restart ICE. */
  #lost(how: string): void {
    if (this.#down) return;
    this.#down = true;
    clearTimeout(this.#downTimer);
    this.#downTimer = undefined;
    this.#host.onProblem(new MeshpartyError('media-connection-failed', `the media connection to ${this.#peer} ${how}; restarting ICE`, { peer: this.#peer }));
    // Either side may be the only one that sees its ICE give up (the other still gets
    // answers to its checks), so both restart. The polite side waits a moment and
    // restarts unless the impolite side's restart came meanwhile (new credentials in its
    // offer) or the connection is back: when both fail, one offer, none crossing.
    if (!this.#polite) return this.#restartIce();
    const ufrag = this.#remoteUfrag;
    clearTimeout(this.#politeRestart);
    this.#politeRestart = setTimeout(() => {
      if (this.#remoteUfrag === ufrag && this.#pc.connectionState !== 'connected') this.#restartIce();
    }, POLITE_RESTART_DELAY_MS);
  }

  /** New ICE credentials in a new offer (fresh candidate gathering on both sides). */
  #restartIce(): void {
    if (this.#closed || typeof this.#pc.restartIce !== 'function') return;
    this.#pc.restartIce();
    // The offer must go out even with no track change: count the restart as one.
    this.#changed();
  }

  /** Set a local offer or answer; resolves with it (undefined if the state moved on). */
  async #setLocal(kind: 'offer' | 'answer'): Promise<{ type: 'offer' | 'answer'; sdp: string } | undefined> {
    const pc = this.#pc;
    if (!this.#explicitDescriptions) {
      try {
        await pc.setLocalDescription();
        const set = pc.localDescription;
        return set && (set.type === 'offer' || set.type === 'answer') ? { type: set.type, sdp: set.sdp } : undefined;
      } catch (err) {
        // @roamhq/wrtc refuses the argument-less form before doing anything: use the old one.
        if (!(err instanceof TypeError) && !/Expected an object/.test(String(err))) throw err;
        this.#explicitDescriptions = true;
      }
    }
    const made = kind === 'offer' ? await pc.createOffer() : await pc.createAnswer();
    if (kind === 'offer' && pc.signalingState !== 'stable') return undefined; // an offer came in meanwhile
    await pc.setLocalDescription(made as Description);
    // Not pc.localDescription: reading it while ICE gathers crashes @roamhq/wrtc now and then.
    return { type: kind, sdp: made.sdp ?? '' };
  }

  #send(message: MediaMessage): void {
    if (this.#closed) return;
    if ('s' in message) {
      message.s = this.session;
      message.to = this.remoteSession;
    }
    this.#host.send(message);
  }

  /** Report a problem; `byPeer`: caused by what the peer sent (it counts against the peer). */
  #problem(code: string, what: string, err: unknown, byPeer = false): void {
    if (this.#closed) return;
    this.#host.onProblem(new MeshpartyError(code, `media with ${this.#peer}: ${what}: ${err instanceof Error ? err.message : String(err)}`, { peer: this.#peer, byPeer }));
  }
}
