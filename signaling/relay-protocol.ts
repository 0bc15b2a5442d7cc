/**
 * The relay's protocol logic: one handler per client message, plus what happens when a
 * connection goes away. It talks to sockets only through ClientConnection and to rooms
 * only through RoomDirectory. Nothing here throws out of `onFrame`.
 */
import {
  CLOSE_CODES,
  PROTOCOL_VERSION,
  type ClientMessage,
  type JoinMessage,
  type PublishMessage,
  type RelayErrorCode,
  type SignalOutMessage,
} from '../src/signaling-client/protocol.js';
import { newPeerId, type ClientConnection } from './client-connection.js';
import type { RelayLogger } from './logger.js';
import type { MetricsCounters } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import { parseClientFrame } from './parse.js';
import { JoinRate } from './join-rate.js';
import { RESUME_KEY_PATTERN, ResumeKeys, hashResumeKey, type SharedResumeKeys } from './resume-keys.js';
import type { RoomDirectory } from './room-directory.js';
import { verifyRoomToken } from './tokens.js';

const PEER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Refusals a well-behaved client runs into through races, not misbehaviour: ICE candidates
 * still in flight to a peer that just left, signals sent while rejoining after a relay
 * restart, a rejoin before the relay noticed the old connection died. They are answered
 * but are not strikes (the rate limit still bounds them).
 */
const RACE_CODES: ReadonlySet<RelayErrorCode> = new Set(['unknown-peer', 'not-in-room', 'peer-id-taken']);

/**
 * A burst over the rate limit is answered (and counted as a strike) once per this many
 * ms, not once per frame: a client paced for a higher rate than this relay's then hears
 * of it and slows down, instead of being closed for abuse by its first burst; one that
 * keeps flooding still reaches the strike limit (4 a second).
 */
const RATE_REFUSAL_EVERY_MS = 250;

/** Message handling for every connection of one relay instance (internal to `signaling/`). */
export class RelayProtocol {
  readonly joinRate: JoinRate;
  /** Who may take which peer id back (see resume-keys.ts). */
  readonly resumeKeys: ResumeKeys<ClientConnection>;
  /** Departures (and arrivals) waiting to be told to their rooms, oldest first (see announce()). */
  #departures: [room: string, frame: string, peerId: string][] = [];
  #announcing = false;

  constructor(
    private readonly options: ResolvedOptions,
    /** meshparty rooms: member id = the peer id in that room. */
    private readonly rooms: RoomDirectory,
    /** y-webrtc topics: member id = the connection id. A separate namespace from rooms. */
    private readonly topics: RoomDirectory,
    private readonly counters: MetricsCounters,
    private readonly log: RelayLogger,
    /** With a relay cluster: resume keys of the other instances. */
    sharedKeys?: SharedResumeKeys,
  ) {
    this.joinRate = new JoinRate(options.joinsPerSecond, options.joinBurst, options.now);
    this.resumeKeys = new ResumeKeys(options.resumeGraceMs, options.maxRememberedPeerIds, options.now, sharedKeys);
  }

  /** Handle one WebSocket frame from `conn`. Never throws. */
  onFrame(conn: ClientConnection, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (conn.ended) return;
    this.counters.messagesIn++;
    conn.alive = true;
    try {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (bytes.length > this.options.maxFrameBytes) {
        this.counters.reject('frame-too-large');
        conn.send({ type: 'error', code: 'frame-too-large', message: `frame over ${this.options.maxFrameBytes} bytes` });
        conn.end('frame-too-large', CLOSE_CODES.messageTooBig, 'frame too large');
        return;
      }
      if (isBinary) return this.refuse(conn, 'binary-frame', 'binary frames are not part of the protocol');
      if (!conn.bucket.take()) return this.refuse(conn, 'rate-limited', 'over the message rate limit');
      if (!conn.byteBucket.take(bytes.length)) return this.refuse(conn, 'rate-limited', 'over the byte rate limit');
      const parsed = parseClientFrame(bytes.toString('utf8'));
      if (!parsed.ok) return this.refuse(conn, parsed.code, parsed.reason, parsed.room);
      this.dispatch(conn, parsed.message);
    } catch (err) {
      // A bug here must cost one message, not the process (and never log the payload).
      this.log({ level: 'error', event: 'handler-error', conn: conn.id, error: err instanceof Error ? err.name : 'unknown' });
      this.refuse(conn, 'bad-message', 'message could not be handled');
    }
  }

  /**
   * Take `conn` out of every room and topic, telling the rooms' other members. Its ids
   * stay reserved for its resume key (`remember`, by default whenever the departure is
   * announced) unless it went on purpose: a client that closes its socket itself (a tab
   * closed or reloaded, a process that quits) is not coming back with that key, and its
   * next incarnation proposing the same id must not be refused for the grace period.
   */
  onClose(conn: ClientConnection, announce: boolean, remember = announce): void {
    // Detach now, so nothing more is delivered to it; the telling may wait (see announce()).
    const rooms = [...conn.rooms];
    const topics = [...conn.topics];
    conn.rooms.clear();
    conn.topics.clear();
    for (const topic of topics) this.topics.remove(topic, conn.id);
    for (const [room, peerId] of rooms) {
      this.rooms.remove(room, peerId);
      // Reserved for its resume key for a while: the same client may be back in a moment.
      this.resumeKeys.release(room, peerId, conn, remember);
      if (announce) this.announce(room, peerId);
    }
  }

  /**
   * Broadcast a departure. Telling a room can drop a member whose send buffer is full, and
   * its departure is told in turn: done inside the first one, a chain of such members (in
   * one room, or across rooms) nested one call per member and overflowed the stack. Any
   * departure that comes up while one is being told is queued and told after it, in order.
   * The departed id is excepted: gone here, it may already be back through another relay
   * instance of a cluster, and must not hear that it left. An arrival goes through the same
   * queue: telling it can drop the joiner itself (the relay-wide send budget), and its
   * departure, told mid-arrival, would reach the members not yet told before the arrival.
   */
  private announce(room: string, peerId: string, type: 'peer-left' | 'peer-joined' = 'peer-left'): void {
    this.#departures.push([room, JSON.stringify({ type, room, peerId }), peerId]);
    if (this.#announcing) return;
    this.#announcing = true;
    try {
      for (let i = 0; i < this.#departures.length; i++) this.rooms.broadcast(...this.#departures[i]!);
    } finally {
      // After a failure the rest is dropped: told later, a departure could follow a rejoin.
      this.#departures = [];
      this.#announcing = false;
    }
  }

  private dispatch(conn: ClientConnection, m: ClientMessage): void {
    switch (m.type) {
      case 'join':
        return this.join(conn, m);
      case 'leave': {
        const peerId = conn.rooms.get(m.room);
        if (peerId === undefined) return this.refuse(conn, 'not-in-room', 'not in that room', m.room);
        conn.rooms.delete(m.room);
        this.rooms.remove(m.room, peerId);
        this.resumeKeys.release(m.room, peerId, conn, false); // left on purpose: the id is free
        this.announce(m.room, peerId);
        return;
      }
      case 'signal':
        return this.signal(conn, m);
      case 'subscribe':
        return this.subscribe(conn, m.topics);
      case 'unsubscribe':
        for (const topic of m.topics) {
          if (conn.topics.delete(topic)) this.topics.remove(topic, conn.id);
        }
        return;
      case 'publish':
        return this.publish(conn, m);
      case 'ping':
        return conn.send({ type: 'pong' });
    }
  }

  private join(conn: ClientConnection, m: JoinMessage): void {
    const { room } = m;
    if (m.v !== PROTOCOL_VERSION) {
      return this.refuse(conn, 'version-mismatch', `this relay speaks meshparty protocol v${PROTOCOL_VERSION}`, room);
    }
    if (!this.validName(room)) {
      return this.refuse(conn, 'room-name-invalid', `room name must be 1-${this.options.maxRoomNameLength} characters`, room);
    }
    if (this.options.secret) {
      const refusal = verifyRoomToken({ secret: this.options.secret, room, token: m.token, nowMs: this.options.now() });
      if (refusal) return this.refuse(conn, refusal, 'room token refused', room);
    }
    if (conn.rooms.has(room)) return this.refuse(conn, 'already-joined', 'already in that room', room);
    if (conn.rooms.size + conn.topics.size >= this.options.maxRoomsPerConnection) {
      return this.refuse(conn, 'too-many-rooms', `at most ${this.options.maxRoomsPerConnection} rooms per connection`, room);
    }
    if (m.resumeKey !== undefined && !RESUME_KEY_PATTERN.test(m.resumeKey)) {
      return this.refuse(conn, 'resume-key-invalid', 'resumeKey must be 16-128 of [A-Za-z0-9_-]', room);
    }
    let peerId: string;
    /** The connection still holding the id this join takes back with its resume key. */
    let resumed: ClientConnection | undefined;
    /** The same, held on another relay instance of a cluster (the directory evicts it there). */
    let resumedElsewhere = false;
    if (m.peerId !== undefined) {
      if (!PEER_ID_PATTERN.test(m.peerId)) return this.refuse(conn, 'peer-id-invalid', 'peerId must be 1-64 of [A-Za-z0-9_-]', room);
      const claim = this.resumeKeys.claim(room, m.peerId, m.resumeKey);
      if (claim.kind === 'resume') resumed = claim.holder;
      // Our key, no local holder, yet a member: it is held on another instance.
      resumedElsewhere = claim.kind === 'resume' && !resumed && this.rooms.has(room, m.peerId);
      // Taken: reserved under another key, or held by a connection that is not ours to replace.
      if (claim.kind === 'taken' || (!resumed && !resumedElsewhere && this.rooms.has(room, m.peerId))) {
        return this.refuse(conn, 'peer-id-taken', 'another connection holds that peerId here', room);
      }
      peerId = m.peerId;
    } else {
      // Someone may have proposed our default id in this room; then this room gets a fresh one.
      peerId = this.rooms.has(room, conn.id) ? newPeerId() : conn.id;
    }
    // A membership taken over leaves its place to the joiner.
    if (this.rooms.size(room) - (resumed || resumedElsewhere ? 1 : 0) >= this.options.maxPeersPerRoom) {
      return this.refuse(conn, 'room-full', `room has ${this.options.maxPeersPerRoom} peers`, room);
    }
    // Last: only a join that would succeed counts against the address's join rate.
    if (!this.joinRate.take(conn.ip)) return this.refuse(conn, 'rate-limited', 'over the join rate for your address', room);
    if (resumed) {
      this.takeOver(resumed, room, peerId, conn);
      // Telling the old connection can drop this one (the relay-wide send budget sheds the
      // largest readers): its close found it in no room, so the peer leaves here, as any
      // member the relay drops does, instead of staying a member nobody serves.
      if (conn.ended) {
        this.resumeKeys.hold(room, peerId, conn, m.resumeKey);
        this.resumeKeys.release(room, peerId, conn, true);
        return this.announce(room, peerId);
      }
    }
    if (resumedElsewhere) {
      this.rooms.remove(room, peerId);
      this.log({ level: 'info', event: 'peer-id-resumed', conn: conn.id, replaced: 'other-instance', ip: conn.ip });
    }
    const peers = this.rooms.members(room);
    this.rooms.add(room, {
      id: peerId,
      deliver: (frame) => conn.sendFrame(frame),
      resumeKeyHash: m.resumeKey === undefined ? undefined : hashResumeKey(m.resumeKey),
      evicted: () => this.evicted(conn, room, peerId),
    });
    conn.rooms.set(room, peerId);
    this.resumeKeys.hold(room, peerId, conn, m.resumeKey);
    conn.send({ type: 'joined', v: PROTOCOL_VERSION, room, peerId, peers });
    // Sending `joined` can end the connection (a slow consumer at its buffer cap); its close
    // has told the room `peer-left` already, and a `peer-joined` now would leave a phantom.
    if (conn.ended) return;
    // A resumed member never left in the others' eyes: the same peer goes on, over
    // another connection. Telling them it joined (or left) would only have their meshes
    // probe or rebuild connections to it that may well be fine.
    if (!resumed && !resumedElsewhere) this.announce(room, peerId, 'peer-joined');
  }

  /**
   * Another relay instance took `peerId` in `room` over from `conn` (its client came back
   * there with its resume key): as {@link takeOver}, with the membership already gone.
   */
  private evicted(conn: ClientConnection, room: string, peerId: string): void {
    if (conn.rooms.get(room) !== peerId) return;
    this.takeOver(conn, room, peerId, undefined);
  }

  /**
   * `old` holds `peerId` in `room`, and `conn` came back for it with its resume key: most
   * likely the same client over a new connection while the old one is half dead (the
   * heartbeat has not caught it yet). The old membership goes without a `peer-left`; the
   * old connection is told `peer-id-resumed` and, in no room or topic any more, closed.
   */
  private takeOver(old: ClientConnection, room: string, peerId: string, conn: ClientConnection | undefined): void {
    old.rooms.delete(room);
    this.rooms.remove(room, peerId);
    this.resumeKeys.release(room, peerId, old, false, true);
    this.log({ level: 'info', event: 'peer-id-resumed', conn: conn?.id ?? 'other-instance', replaced: old.id, ip: conn?.ip ?? old.ip });
    old.send({ type: 'error', code: 'peer-id-resumed', message: 'another connection resumed this peer id with its resume key', room: room.slice(0, this.options.maxRoomNameLength) });
    if (old.rooms.size === 0 && old.topics.size === 0) old.end('resumed', CLOSE_CODES.normal, 'peer-id-resumed');
  }

  private signal(conn: ClientConnection, m: SignalOutMessage): void {
    const from = conn.rooms.get(m.room);
    if (from === undefined) return this.refuse(conn, 'not-in-room', 'not in that room', m.room);
    // `from` is stamped here, whatever the client put in its frame.
    const frame = JSON.stringify({ type: 'signal', room: m.room, from, data: m.data });
    if (!this.rooms.sendTo(m.room, m.to, frame)) this.refuse(conn, 'unknown-peer', 'no such peer in that room', m.room);
  }

  private subscribe(conn: ClientConnection, topics: string[]): void {
    if (!this.topicsAllowed()) return this.refuse(conn, 'token-required', 'this relay needs room tokens; y-webrtc topics are disabled');
    // One refusal per frame at most: a frame naming 1000 bad topics must not earn 1000 error frames.
    let refusal: { code: RelayErrorCode; reason: string; room: string } | undefined;
    for (const topic of topics) {
      if (conn.topics.has(topic)) continue; // y-webrtc resubscribes freely; that is fine
      if (!this.validName(topic)) {
        refusal ??= { code: 'room-name-invalid', reason: `topic must be 1-${this.options.maxRoomNameLength} characters`, room: topic };
      } else if (conn.rooms.size + conn.topics.size >= this.options.maxRoomsPerConnection) {
        refusal ??= { code: 'too-many-rooms', reason: `at most ${this.options.maxRoomsPerConnection} rooms per connection`, room: topic };
      } else if (this.topics.size(topic) >= this.options.maxPeersPerRoom) {
        refusal ??= { code: 'room-full', reason: `topic has ${this.options.maxPeersPerRoom} subscribers`, room: topic };
      } else {
        this.topics.add(topic, { id: conn.id, deliver: (frame) => conn.sendFrame(frame) });
        conn.topics.add(topic);
      }
    }
    if (refusal) this.refuse(conn, refusal.code, refusal.reason, refusal.room);
  }

  private publish(conn: ClientConnection, m: PublishMessage): void {
    if (!this.topicsAllowed()) return this.refuse(conn, 'token-required', 'this relay needs room tokens; y-webrtc topics are disabled');
    // y-webrtc's server lets anyone publish anywhere; we require a subscription (its
    // clients always subscribe first) so a stranger cannot spray frames into a topic.
    if (!conn.topics.has(m.topic)) return this.refuse(conn, 'not-in-room', 'publish needs a subscription to the topic', m.topic);
    // As y-webrtc: forward the whole message to every subscriber, sender included, with `clients`.
    const frame = JSON.stringify({ ...m, clients: this.topics.size(m.topic) });
    this.topics.broadcast(m.topic, frame);
  }

  private topicsAllowed(): boolean {
    return !this.options.secret || this.options.allowUnauthenticatedTopics;
  }

  private validName(name: string): boolean {
    return name.length > 0 && name.length <= this.options.maxRoomNameLength;
  }

  /** Answer a refused message with an error frame; cut off repeat offenders. */
  private refuse(conn: ClientConnection, code: RelayErrorCode, message: string, room?: string): void {
    this.counters.reject(code);
    if (code === 'rate-limited') {
      const now = this.options.now();
      if (now - conn.lastRateRefusalAt < RATE_REFUSAL_EVERY_MS) return;
      conn.lastRateRefusalAt = now;
    }
    if (room === undefined) conn.send({ type: 'error', code, message });
    // Echo the room so clients can match the refusal, but never echo an oversized name back.
    else conn.send({ type: 'error', code, message, room: room.slice(0, this.options.maxRoomNameLength) });
    if (!RACE_CODES.has(code) && conn.strike()) {
      this.counters.reject('abuse');
      conn.send({ type: 'error', code: 'abuse', message: 'too many refused messages; closing' });
      conn.end('abuse', CLOSE_CODES.policyViolation, 'abuse');
    }
  }
}
