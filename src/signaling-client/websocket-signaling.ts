/**
 * The relay client: a {@link Signaling} over one WebSocket, speaking meshparty v1
 * (PROTOCOL.md). It joins one room, reports who comes and goes, carries addressed
 * signals, keeps NATs and proxies awake with application pings, and when the relay goes
 * away it reconnects with exponential backoff and jitter and rejoins under the peer id it
 * was given the first time, so the mesh's existing peer connections stay valid (a random
 * resume key sent with each join lets the relay hand that id back to us alone, at once,
 * even while it still holds our old connection). When the
 * relay refuses the connection itself (full, or too many connections from this address)
 * or the join for its address's join rate, it says why through `refused` and keeps
 * retrying with the same backoff.
 */
import { type Clock, type TimerHandle, realClock } from '../util/clock.js';
import { Emitter } from '../util/emitter.js';
import { MeshpartyError } from '../util/errors.js';
import type { PeerId } from './protocol.js';
import { type BackoffOptions, DEFAULT_BACKOFF_MAX_MS, backoffDelay } from './backoff.js';
import { type PacerOptions, SendPacer } from './send-pacer.js';
import { type ClientMessage, type JoinMessage, PROTOCOL_VERSION, type ServerMessage } from './protocol.js';
import type { Signaling, SignalingEvents, SignalingStatus } from './types.js';

/**
 * The WebSocket members used here: the browser's WebSocket and `ws` both fit.
 *
 * @example
 * ```ts
 * // A socket that counts what it sends, for a test or a meter.
 * class Counted extends WebSocket implements WebSocketLike {
 *   sent = 0;
 *   override send(data: string): void { this.sent += data.length; super.send(data); }
 * }
 * ```
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- event types differ between the DOM and `ws`; only `data` is read */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * A WebSocket constructor: `globalThis.WebSocket` in browsers, `ws`'s default export in Node.
 *
 * @example
 * ```ts
 * import WebSocket from 'ws';
 * const ctor: WebSocketConstructor = WebSocket;
 * const room = await joinRoom({ relay: 'ws://127.0.0.1:4444', room: 'demo', WebSocket: ctor, wrtc });
 * ```
 */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * Options of {@link createWebSocketSignaling}.
 *
 * @example
 * ```ts
 * const options: WebSocketSignalingOptions = {
 *   url: 'wss://relay.example',
 *   room: 'notes',
 *   token, // when the relay has a secret
 *   peerId: saved.peerId, // keep the id across a crash, with its key:
 *   resumeKey: saved.resumeKey,
 *   backoff: { maxMs: 5000 },
 * };
 * ```
 */
export interface WebSocketSignalingOptions {
  /** The relay's URL, e.g. `wss://relay.example.org` or `ws://127.0.0.1:4444`. */
  url: string;
  /** Room to join. */
  room: string;
  /** Room token, when the relay has a secret. */
  token?: string;
  /** WebSocket implementation; default `globalThis.WebSocket` (in Node pass `ws`). */
  WebSocket?: WebSocketConstructor;
  /** Ask for this peer id instead of letting the relay choose one. */
  peerId?: PeerId;
  /**
   * The secret sent with every join (`resumeKey`, 16-128 chars of `[A-Za-z0-9_-]`) that
   * lets this client, and only it, take its peer id back at once after a network blip:
   * the relay replaces the old connection still holding the id, and keeps the id for it
   * for a grace period (60 s by default) after a disconnect. Default: 22 random
   * characters from `globalThis.crypto.getRandomValues`, made once per signaling
   * instance. Pass your own (kept, say, in sessionStorage) to keep the id across a
   * reload; keep it secret, since whoever has it can take the id over.
   */
  resumeKey?: string;
  /**
   * Reconnect delays (default 250 ms doubling to 10 s, 50 % jitter). They start over from
   * the first only after a connection that stayed joined for `maxMs`; one lost sooner
   * (a relay that lets us in and drops us at once) waits the next longer delay.
   */
  backoff?: BackoffOptions;
  /**
   * Give up with `relay-unreachable` after this many failed attempts in a row before
   * the first successful join (default: never). Once joined, reconnecting never gives up.
   * When the relay refused any of those attempts outright, the error's
   * `detail.lastRefusal` is the code of the latest refusal (`server-full`,
   * `too-many-connections-from-ip`, or `rate-limited` for the address's join rate, which
   * does not count as a failed attempt).
   */
  maxInitialAttempts?: number;
  /**
   * Give up on a connection attempt that has not joined after this long and retry (default
   * 10 s): a relay, or a proxy before it, can accept the TCP connection and never answer.
   */
  connectTimeoutMs?: number;
  /** Application ping period while joined (default 20 s). */
  pingIntervalMs?: number;
  /**
   * The connection counts as dead when nothing arrived for this long (default 2.5 pings),
   * as long as the ping timer runs on time. A check that runs late (a hidden tab's
   * throttled timers, a laptop waking) sends a probe ping instead and counts the
   * connection dead only if nothing arrives by the next check (5 s later, or whenever
   * the throttled timer fires).
   */
  silenceTimeoutMs?: number;
  /** Client-side rate limit for outgoing frames, under the relay's (default 50/s, burst 100). */
  rate?: PacerOptions;
  /** Timers (default: the real clock). */
  clock?: Clock;
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number;
  /** Where dropped frames and refusals of single messages are reported (default: console warnings). */
  logger?: { warn(message: string, detail?: Record<string, unknown>): void };
}

/** Relay refusals of `join` that retrying cannot fix. */
const FATAL_CODES = new Set([
  'room-full',
  'token-required',
  'token-invalid',
  'token-expired',
  'token-wrong-room',
  'version-mismatch',
  'room-name-invalid',
  'peer-id-invalid',
  'resume-key-invalid',
  'too-many-rooms',
  'origin-not-allowed',
  'abuse',
]);

/**
 * Refusals of the connection as a whole that capacity freeing up can end (PROTOCOL.md,
 * "Error codes"): reported through `refused` and retried with backoff, never given up
 * on once joined. `origin-not-allowed`, the other connection refusal, is fatal above.
 */
const RETRIED_REFUSALS = new Set(['server-full', 'too-many-connections-from-ip']);

/** A connection refusal: the relay's code and its words. */
interface Refusal {
  code: string;
  message: string;
}

/**
 * The refusal a close says, when its error frame did not arrive: the relay closes a
 * refused connection with the code as the close reason (1013 or 1008).
 */
function refusalOfClose(ev: { code?: unknown; reason?: unknown } | undefined): Refusal | undefined {
  const reason = ev?.reason;
  if ((ev?.code !== 1013 && ev?.code !== 1008) || typeof reason !== 'string' || !RETRIED_REFUSALS.has(reason)) return undefined;
  return { code: reason, message: `closed ${ev.code} ${reason}` };
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A fresh resume key: 22 characters of base64url, 132 random bits (WebCrypto: browsers and Node). */
export function newResumeKey(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(22));
  let key = '';
  for (const b of bytes) key += KEY_ALPHABET[b & 63];
  return key;
}

/** How long a probe ping (sent by a late check, see #schedulePing) waits for anything from the relay. */
const PROBE_WINDOW_MS = 5000;
/** How long a rejoin keeps asking for its old id while the relay still holds it (a stale connection). */
const PEER_ID_TAKEN_PATIENCE_MS = 60_000;

const OPEN = 1;

class WebSocketSignaling implements Signaling {
  readonly #events = new Emitter<SignalingEvents>();
  readonly #opts: WebSocketSignalingOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: { warn(message: string, detail?: Record<string, unknown>): void };
  readonly #WebSocket: WebSocketConstructor;
  #status: SignalingStatus = 'connecting';
  #ws: WebSocketLike | undefined;
  #started = false;
  #joined = false;
  #everJoined = false;
  /** The last join named a peer id (ours from before, or the one asked for). */
  #askedForId = false;
  /** The id to ask for on (re)join: the option, then whatever the relay gave us. */
  #peerId: PeerId | undefined;
  /** Proves to the relay that a rejoin under `#peerId` is us (see `resumeKey`). */
  readonly #resumeKey: string;
  #attempt = 0;
  #retryTimer: TimerHandle | undefined;
  #pingTimer: TimerHandle | undefined;
  /** Runs from opening a socket until its `joined`: see `connectTimeoutMs`. */
  #joinDeadline: TimerHandle | undefined;
  #lastHeard = 0;
  /** When the current connection joined: `#lost` starts the backoff over only if it lasted. */
  #joinedAt = 0;
  #takenSince: number | undefined;
  /** The latest connection refusal since the last join, for `relay-unreachable`'s detail. */
  #lastRefusal: Refusal | undefined;
  readonly #pacer: SendPacer<ClientMessage>;

  constructor(opts: WebSocketSignalingOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock();
    this.#random = opts.random ?? Math.random;
    this.#log = opts.logger ?? { warn: (m, d) => console.warn(`[meshparty] ${m}`, d ?? '') };
    this.#peerId = opts.peerId;
    this.#resumeKey = opts.resumeKey ?? newResumeKey();
    const ctor = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!ctor) throw new MeshpartyError('websocket-unavailable', 'no WebSocket implementation: pass one (e.g. `ws` in Node)');
    this.#WebSocket = ctor;
    this.#pacer = new SendPacer<ClientMessage>(this.#clock, opts.rate ?? {}, (m) => this.#sendNow(m), (n) =>
      this.#log.warn('dropped signals: too many waiting for the relay rate limit', { count: n }),
    );
  }

  get status(): SignalingStatus {
    return this.#status;
  }

  join(): void {
    if (this.#started || this.#status === 'closed') return;
    this.#started = true;
    this.#connect();
  }

  sendSignal(to: PeerId, data: unknown): void {
    if (!this.#joined) return; // Dropped, not queued: the mesh re-signals after a rejoin.
    this.#send({ type: 'signal', room: this.#opts.room, to, data });
  }

  on<K extends keyof SignalingEvents>(event: K, listener: (value: SignalingEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  close(): void {
    if (this.#status === 'closed') return;
    if (this.#joined) this.#send({ type: 'leave', room: this.#opts.room });
    this.#teardownSocket(1000);
    this.#clearTimers();
    this.#setStatus('closed');
    this.#events.clear();
  }

  // ------------------------------------------------------------------ connection

  #connect(): void {
    this.#retryTimer = undefined;
    if (this.#status === 'closed') return;
    let ws: WebSocketLike;
    try {
      ws = new this.#WebSocket(this.#opts.url);
    } catch (err) {
      // A malformed URL cannot get better by retrying.
      return this.#fatal(new MeshpartyError('bad-relay-url', `cannot open a WebSocket to ${this.#opts.url}: ${String(err)}`));
    }
    this.#ws = ws;
    this.#joinDeadline = this.#clock.setTimeout(() => {
      this.#joinDeadline = undefined;
      if (this.#ws !== ws) return;
      this.#log.warn('relay did not answer; retrying', { url: this.#opts.url });
      this.#lost();
    }, this.#opts.connectTimeoutMs ?? 10_000);
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#heard();
      const join: JoinMessage = { type: 'join', v: PROTOCOL_VERSION, room: this.#opts.room };
      if (this.#opts.token !== undefined) join.token = this.#opts.token;
      if (this.#peerId !== undefined) join.peerId = this.#peerId;
      // With every join, the first too: the relay ties the id it gives us to the key.
      join.resumeKey = this.#resumeKey;
      this.#askedForId = this.#peerId !== undefined;
      this.#send(join);
      this.#schedulePing();
    };
    ws.onmessage = (ev: { data: unknown }) => {
      if (this.#ws === ws) this.#onFrame(ev.data);
    };
    ws.onerror = () => {
      // Always followed by `close`, which decides what happens next.
    };
    ws.onclose = (ev: { code?: unknown; reason?: unknown } | undefined) => {
      if (this.#ws === ws) this.#lost(refusalOfClose(ev));
    };
  }

  /**
   * The socket is gone (closed, failed to open, went silent, or the relay refused the
   * connection: `refusal`): retry later.
   */
  #lost(refusal?: Refusal): void {
    this.#teardownSocket();
    if (this.#status === 'closed') return;
    const wasJoined = this.#joined;
    this.#joined = false;
    // Start the backoff over only after a connection that lasted: a relay that lets us in
    // and then drops or refuses us at once (alternating with refusals, or not) would
    // otherwise be retried at the first, shortest delay forever. Lasting as long as the
    // longest delay bounds such a loop to about one attempt per that delay.
    if (wasJoined && this.#clock.now() - this.#joinedAt >= (this.#opts.backoff?.maxMs ?? DEFAULT_BACKOFF_MAX_MS)) this.#attempt = 0;
    if (refusal) this.#lastRefusal = refusal;
    if (this.#everJoined) this.#setStatus('reconnecting');
    const max = this.#opts.maxInitialAttempts;
    // A join refused for the address's join rate is not a failed attempt: the relay is up
    // and lets us in as its rate allows (64 tabs behind one NAT at once drain at 4/s), so
    // it does not use up the tries (the backoff still grows, up to its maximum).
    const counts = refusal?.code !== 'rate-limited';
    if (counts && !this.#everJoined && max !== undefined && this.#attempt + 1 >= max) {
      const last = this.#lastRefusal;
      return this.#fatal(
        new MeshpartyError(
          'relay-unreachable',
          `could not join at ${this.#opts.url} after ${this.#attempt + 1} attempts` +
            (last ? `; the relay refused the connection (${last.code}: ${last.message})` : ''),
          { url: this.#opts.url, attempts: this.#attempt + 1, ...(last ? { lastRefusal: last.code } : {}) },
        ),
      );
    }
    const delay = this.#retry();
    if (refusal && delay !== undefined) {
      this.#events.emit(
        'refused',
        new MeshpartyError(refusal.code, `relay at ${this.#opts.url} refused the connection: ${refusal.message}; retrying in ${delay} ms`, {
          url: this.#opts.url,
          retryInMs: delay,
        }),
      );
    }
  }

  /** Schedule the next attempt with backoff; returns its delay (undefined: one is already scheduled, or closed). */
  #retry(): number | undefined {
    if (this.#retryTimer !== undefined || this.#status === 'closed') return undefined;
    const delay = backoffDelay(this.#attempt++, this.#opts.backoff ?? {}, this.#random);
    this.#retryTimer = this.#clock.setTimeout(() => this.#connect(), delay);
    return delay;
  }

  #teardownSocket(code?: number): void {
    this.#pacer.clear(); // frames for a connection that is gone; the mesh re-signals after the rejoin
    // Both timers belong to this socket; a ping loop left running would carry on into the
    // next connection beside that one's own (one more loop per peer-id-taken retry).
    if (this.#pingTimer !== undefined) this.#clock.clearTimeout(this.#pingTimer);
    if (this.#joinDeadline !== undefined) this.#clock.clearTimeout(this.#joinDeadline);
    this.#pingTimer = this.#joinDeadline = undefined;
    const ws = this.#ws;
    if (!ws) return;
    this.#ws = undefined;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {}; // a late error of a socket we dropped is of no interest
    try {
      if (ws.readyState <= OPEN) ws.close(code);
    } catch {
      // Closing a socket that never opened can throw in some implementations.
    }
  }

  #fatal(err: MeshpartyError): void {
    if (this.#status === 'closed') return;
    this.#events.emit('error', err);
    this.close();
  }

  // ------------------------------------------------------------------ liveness

  #heard(): void {
    this.#lastHeard = this.#clock.now();
  }

  /**
   * Ping every `pingIntervalMs`; a relay silent for `silenceTimeoutMs` is lost. Silence
   * counts only while our timers run on time: a hidden tab's timers may fire once a
   * minute (Chrome's intensive throttling of a tab alone in its room, with no WebRTC
   * connection), and a laptop wakes with every timer late, so the pings that would have
   * kept the relay talking were never sent. A late check sends a probe ping instead and
   * gives up only if nothing at all arrives before the next check.
   */
  #schedulePing(probeSentAt?: number): void {
    const every = this.#opts.pingIntervalMs ?? 20_000;
    const due = this.#clock.now() + (probeSentAt === undefined ? every : Math.min(every, PROBE_WINDOW_MS));
    this.#pingTimer = this.#clock.setTimeout(() => {
      this.#pingTimer = undefined;
      if (!this.#ws || this.#status === 'closed') return;
      const now = this.#clock.now();
      const silence = this.#opts.silenceTimeoutMs ?? every * 2.5;
      const unanswered = probeSentAt !== undefined && this.#lastHeard < probeSentAt;
      if (unanswered || (now - this.#lastHeard > silence && probeSentAt === undefined && now - due <= every / 2)) {
        this.#log.warn('relay went silent; reconnecting', { url: this.#opts.url });
        return this.#lost();
      }
      this.#send({ type: 'ping' });
      this.#schedulePing(now - this.#lastHeard > silence ? now : undefined);
    }, due - this.#clock.now());
  }

  #clearTimers(): void {
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    if (this.#pingTimer !== undefined) this.#clock.clearTimeout(this.#pingTimer);
    this.#retryTimer = this.#pingTimer = undefined;
  }

  // ------------------------------------------------------------------ frames

  /** Every frame goes through the pacer, so the relay never refuses one for rate. */
  #send(message: ClientMessage): void {
    if (!this.#ws || this.#ws.readyState !== OPEN) return;
    this.#pacer.push(message);
  }

  #sendNow(message: ClientMessage): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN) return;
    try {
      ws.send(JSON.stringify(message));
    } catch (err) {
      this.#log.warn('could not send to the relay', { error: String(err) });
    }
  }

  #onFrame(raw: unknown): void {
    this.#heard();
    let m: ServerMessage;
    try {
      const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw as ArrayBuffer | Uint8Array);
      m = JSON.parse(text) as ServerMessage;
    } catch {
      return this.#log.warn('dropped a relay frame that is not JSON');
    }
    if (typeof m !== 'object' || m === null || typeof m.type !== 'string') return this.#log.warn('dropped a relay frame without a type');
    const room = this.#opts.room;
    switch (m.type) {
      case 'joined':
        if (m.room !== room || typeof m.peerId !== 'string' || !Array.isArray(m.peers)) return this.#log.warn('dropped a malformed `joined`');
        return this.#onJoined(m.peerId, m.peers.filter((p): p is string => typeof p === 'string' && p !== m.peerId));
      case 'peer-joined':
      case 'peer-left':
        if (m.room !== room || typeof m.peerId !== 'string' || !this.#joined) return;
        if (m.peerId === this.#peerId) return;
        return this.#events.emit(m.type, m.peerId);
      case 'signal':
        if (m.room !== room || typeof m.from !== 'string' || !this.#joined) return;
        return this.#events.emit('signal', { from: m.from, data: m.data });
      case 'pong':
        return;
      case 'error':
        // Strings only: String() of a JSON object with its own `toString` key throws, and a
        // throw here escapes the socket's message handler (an uncaught exception in Node).
        if (typeof m.code !== 'string') return this.#log.warn('dropped a relay error frame without a string code');
        return this.#onRelayError(m.code, typeof m.message === 'string' ? m.message : '');
      default:
        return; // y-webrtc frames and future types are not ours.
    }
  }

  #onJoined(selfId: PeerId, peers: PeerId[]): void {
    this.#peerId = selfId;
    this.#joined = true;
    this.#everJoined = true;
    this.#joinedAt = this.#clock.now();
    // `#attempt` is not reset here but when this connection is lost, if it lasted (`#lost`).
    this.#takenSince = undefined;
    this.#lastRefusal = undefined;
    if (this.#joinDeadline !== undefined) this.#clock.clearTimeout(this.#joinDeadline);
    this.#joinDeadline = undefined;
    this.#events.emit('joined', { selfId, peers, fresh: !this.#askedForId });
    if (this.#status === 'closed') return; // a `joined` listener closed us
    this.#setStatus('connected');
  }

  #onRelayError(code: string, message: string): void {
    if (code === 'peer-id-taken' && !this.#joined) return this.#onPeerIdTaken(message);
    // A join with our resume key took our place. Frames of a socket we gave up on never get
    // here (`onmessage` checks it is the current one), so this is another live client with
    // our key and id (the same resumeKey used in two tabs or processes). Taking the id
    // back would make the two take it from each other forever: stop, and say why.
    if (code === 'peer-id-resumed') {
      return this.#fatal(
        new MeshpartyError(code, `another client took over our peer id in room "${this.#opts.room}" with our resume key (is the same resumeKey used in two places?)`, {
          room: this.#opts.room,
        }),
      );
    }
    // Sent instead of `joined`, and the relay closes the connection right after it: do not
    // wait for the close. (Once joined it can only be a confused relay: logged below, as a
    // retry at once would make it a loop.)
    if (RETRIED_REFUSALS.has(code) && !this.#joined) return this.#lost({ code, message });
    if (FATAL_CODES.has(code) && (!this.#joined || code === 'abuse')) {
      return this.#fatal(new MeshpartyError(code, `relay refused to join room "${this.#opts.room}": ${message}`, { room: this.#opts.room }));
    }
    // Before we are in, the only thing we sent is the join: this refusal is the relay's join
    // rate for our address (many tabs behind one NAT). Retry with backoff as for a full
    // relay, and leave the pacer alone: our message rate was not what it refused.
    if (code === 'rate-limited' && !this.#joined) return this.#lost({ code, message });
    if (code === 'rate-limited') {
      // The relay allows less than our pacer's rate (its operator set it lower): slow down
      // for good, or a big room's signals would keep being refused, then count as abuse.
      this.#pacer.slowDown();
      return this.#log.warn('relay refused a message for its rate; sending slower', { perSecond: this.#pacer.perSecond });
    }
    // Refusals of single messages (a signal to a peer who just left) cost that message only.
    this.#log.warn('relay refused a message', { code, message });
  }

  /**
   * The relay holds our id for someone else. With our resume key a relay replaces our own
   * stale connection at once, so this is a relay without resume keys that has not yet
   * noticed that our old connection died, or another client that took the id while the
   * relay remembered nothing of ours (after it restarted, or past its grace period). Keep asking (with backoff) for a while, then take a new id; the mesh
   * reconnects everyone under it. An id the app chose itself is never given up.
   */
  #onPeerIdTaken(message: string): void {
    const now = this.#clock.now();
    this.#takenSince ??= now;
    if (!this.#everJoined) {
      return this.#fatal(new MeshpartyError('peer-id-taken', `relay refused peer id "${this.#peerId}": ${message}`, { peerId: this.#peerId }));
    }
    if (now - this.#takenSince > PEER_ID_TAKEN_PATIENCE_MS && this.#opts.peerId === undefined) {
      this.#log.warn('giving up our old peer id; rejoining under a new one', { peerId: this.#peerId });
      this.#peerId = undefined;
    }
    this.#teardownSocket(1000);
    this.#retry();
  }

  #setStatus(next: SignalingStatus): void {
    if (this.#status === next) return;
    this.#status = next;
    this.#events.emit('status', next);
  }
}

/**
 * A {@link Signaling} over the meshparty relay's WebSocket protocol.
 *
 * @example
 * ```ts
 * import WebSocket from 'ws'; // Node; browsers use the global WebSocket
 * const signaling = createWebSocketSignaling({ url: 'ws://127.0.0.1:4444', room: 'demo', WebSocket });
 * signaling.on('joined', ({ selfId, peers }) => console.log(selfId, peers));
 * signaling.on('refused', (err) => console.warn(err.code, 'retrying in', err.detail?.retryInMs)); // e.g. server-full
 * signaling.join();
 * ```
 */
export function createWebSocketSignaling(options: WebSocketSignalingOptions): Signaling {
  return new WebSocketSignaling(options);
}
