/**
 * One client's WebSocket as the relay sees it: its ids, the rooms and topics it is in,
 * its rate limit and strike record, and guarded sending (a client whose send buffer
 * grows past the cap is dropped rather than buffered without bound).
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { PeerId, ServerMessage } from '../src/signaling-client/protocol.js';
import type { ResolvedOptions } from './options.js';
import { TokenBucket } from '../src/util/token-bucket.js';

/** A fresh relay-assigned peer id: 16 URL-safe characters, 96 random bits. */
export const newPeerId = (): PeerId => randomBytes(12).toString('base64url');

/**
 * Why the relay itself ended a connection (for logs and metrics). `protocol-error` and
 * `ping-flood` are closes made by the WebSocket layer (a frame breaking RFC 6455, text that
 * is not UTF-8; too many pings whose pongs the client does not read); `resumed`: a join
 * with the resume key of its last membership took that over (`peer-id-resumed`);
 * `partial-budget`: it held the most bytes of messages still arriving when all
 * connections' together went over `maxTotalPartialBytes`.
 */
export type DropReason = 'resumed' | 'slow-consumer' | 'partial-budget' | 'heartbeat' | 'abuse' | 'frame-too-large' | 'shutdown' | 'refused' | 'protocol-error' | 'ping-flood';

/** The relay's state for one open WebSocket (internal to `signaling/`). */
export class ClientConnection {
  /** This connection's relay-assigned peer id, used in every room it joins without `peerId`. */
  readonly id: PeerId = newPeerId();
  /** Room -> this connection's peer id in that room. */
  readonly rooms = new Map<string, PeerId>();
  readonly topics = new Set<string>();
  readonly bucket: TokenBucket;
  /** The same in frame bytes. */
  readonly byteBucket: TokenBucket;
  readonly openedAt: number;
  /** Set by the heartbeat, cleared by pong or any frame. */
  alive = true;
  /** True once the relay stopped serving this connection (closing or closed). */
  ended = false;
  dropReason: DropReason | undefined;
  refusals = 0;
  /** When this connection's last `rate-limited` refusal was answered (see RelayProtocol.refuse). */
  lastRateRefusalAt = -Infinity;
  /** Called once when the relay ends this connection, before the socket has closed. */
  onEnd: (() => void) | undefined;
  #strikeTimes: number[] = [];

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    private readonly options: ResolvedOptions,
    /** Called for every frame actually handed to the socket. */
    private readonly onSent: (conn: ClientConnection) => void,
    /** Called when this connection is dropped for exceeding its send buffer. */
    private readonly onSlowConsumer: (conn: ClientConnection) => void,
  ) {
    this.openedAt = options.now();
    this.bucket = new TokenBucket(options.messagesPerSecond, options.messageBurst, options.now);
    this.byteBucket = new TokenBucket(options.bytesPerSecond, options.byteBurst, options.now);
  }

  /** Serialise and send a protocol message. */
  send(message: ServerMessage): void {
    this.sendFrame(JSON.stringify(message));
  }

  /** Send an already serialised frame, unless the client is too far behind. */
  sendFrame(frame: string): void {
    if (this.ended || this.ws.readyState !== this.ws.OPEN) return;
    // In UTF-8 bytes, like bufferedAmount (a string's length undercounts non-ASCII up to
    // 3x); counted only when the cheap bound of 3 bytes per character could reach the cap.
    const buffered = this.ws.bufferedAmount;
    const cap = this.options.maxBufferedBytes;
    if (buffered + 3 * frame.length > cap && buffered + Buffer.byteLength(frame) > cap) {
      this.onSlowConsumer(this);
      return;
    }
    this.ws.send(frame);
    this.onSent(this);
  }

  /** Record one refused message; true when the strike limit is reached within the window. */
  strike(): boolean {
    this.refusals++;
    if (this.options.strikeLimit === Infinity) return false;
    const now = this.options.now();
    const times = this.#strikeTimes;
    times.push(now);
    while (times.length > 0 && times[0]! <= now - this.options.strikeWindowMs) times.shift();
    return times.length >= this.options.strikeLimit;
  }

  /** Stop serving: close with `code` (the socket is terminated if the close handshake stalls). */
  end(reason: DropReason, code: number, text: string, graceMs = 2000): void {
    if (this.ended) return;
    this.ended = true;
    this.dropReason = reason;
    // Leave the rooms now: the close handshake may take a while, and nobody should
    // keep signalling a peer the relay has already given up on.
    this.onEnd?.();
    if (code === 0) {
      this.ws.terminate();
      return;
    }
    this.ws.close(code, text);
    // ws waits 30 s for the peer's close frame; an abusive peer should not hold a socket that long.
    setTimeout(() => this.ws.terminate(), graceMs).unref();
  }
}
