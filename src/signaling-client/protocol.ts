/**
 * The relay's wire protocol, shared by the relay (`signaling/`) and the client
 * (`src/signaling-client`). PROTOCOL.md is the normative grammar; this file is its
 * TypeScript mirror and must change in the same commit as PROTOCOL.md.
 *
 * Every frame is one JSON object in one WebSocket text frame.
 * Two families share the socket:
 *  - meshparty v1: addressed messages (`join`, `leave`, `signal`, ...). The relay stamps
 *    `from` itself and forwards a signal only to its `to` peer in that room.
 *  - y-webrtc compatible: `subscribe`, `unsubscribe`, `publish`, `ping`, handled exactly
 *    as y-webrtc's own `bin/server.js` does, so unchanged y-webrtc apps work.
 */

/** The meshparty relay protocol version this code speaks. */
export const PROTOCOL_VERSION = 1;

/**
 * A peer id as assigned by the relay: opaque, URL-safe, unique per connection.
 *
 * @example
 * ```ts
 * const names = new Map<PeerId, string>();
 * room.on('peer-left', ({ id }) => names.delete(id));
 * ```
 */
export type PeerId = string;

// ---------------------------------------------------------------- client -> relay

/** Join a room. `v` must equal {@link PROTOCOL_VERSION}. */
export interface JoinMessage {
  type: 'join';
  v: number;
  room: string;
  /** Room token (see PROTOCOL.md "Tokens"); required when the relay has a secret. */
  token?: string;
  /**
   * The peer id this client wants (1-64 chars of `[A-Za-z0-9_-]`). Lets a client keep
   * its id when it rejoins after a relay restart, so existing peer connections stay
   * valid. Without it the relay assigns one. Refused with `peer-id-taken` when another
   * connection holds that id in the room, or held it until it disconnected less than the
   * relay's resume grace period ago, unless `resumeKey` proves this is the same client.
   */
  peerId?: PeerId;
  /**
   * A secret the client picked once (16-128 chars of `[A-Za-z0-9_-]`), sent with every
   * join. The relay keeps its hash for this membership, and for a grace period after a
   * disconnect: a later join proposing the same `peerId` with the same key gets the id
   * back at once (replacing a connection that still holds it, see `peer-id-resumed`);
   * one with another key or none gets `peer-id-taken`.
   */
  resumeKey?: string;
}

/** Leave a room this connection joined. */
export interface LeaveMessage {
  type: 'leave';
  room: string;
}

/** Send an opaque signal payload to one peer of a room both are in. */
export interface SignalOutMessage {
  type: 'signal';
  room: string;
  to: PeerId;
  /** Opaque to the relay: an SDP/ICE object, or a ciphertext string when encrypted. */
  data: unknown;
}

/** y-webrtc: subscribe to topics. */
export interface SubscribeMessage {
  type: 'subscribe';
  topics: string[];
}

/** y-webrtc: unsubscribe from topics. */
export interface UnsubscribeMessage {
  type: 'unsubscribe';
  topics: string[];
}

/** y-webrtc: publish to every subscriber of `topic` (the sender included). */
export interface PublishMessage {
  type: 'publish';
  topic: string;
  [extra: string]: unknown;
}

/** Application-level keepalive; answered with `pong`. */
export interface PingMessage {
  type: 'ping';
}

export type ClientMessage =
  | JoinMessage
  | LeaveMessage
  | SignalOutMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | PublishMessage
  | PingMessage;

// ---------------------------------------------------------------- relay -> client

/** Reply to `join`: this connection's peer id and who was already in the room. */
export interface JoinedMessage {
  type: 'joined';
  v: number;
  room: string;
  peerId: PeerId;
  peers: PeerId[];
}

/** Another peer joined a room this connection is in. */
export interface PeerJoinedMessage {
  type: 'peer-joined';
  room: string;
  peerId: PeerId;
}

/** Another peer left (or was disconnected from) a room this connection is in. */
export interface PeerLeftMessage {
  type: 'peer-left';
  room: string;
  peerId: PeerId;
}

/** A signal from one peer; `from` is stamped by the relay. */
export interface SignalInMessage {
  type: 'signal';
  room: string;
  from: PeerId;
  data: unknown;
}

/** Reply to `ping`. */
export interface PongMessage {
  type: 'pong';
}

/** y-webrtc: a published message as delivered to subscribers. */
export interface PublishedMessage {
  type: 'publish';
  topic: string;
  clients: number;
  [extra: string]: unknown;
}

/** Something the client sent was refused. `code` is stable; `message` is for humans. */
export interface ErrorMessage {
  type: 'error';
  code: RelayErrorCode;
  message: string;
  /** The room the refused message named, when it named one. */
  room?: string;
}

export type ServerMessage =
  | JoinedMessage
  | PeerJoinedMessage
  | PeerLeftMessage
  | SignalInMessage
  | PongMessage
  | PublishedMessage
  | ErrorMessage;

// ---------------------------------------------------------------- errors

/**
 * Stable error codes carried by `error` frames. Never rename one; add new ones.
 * PROTOCOL.md lists when each is sent and whether the connection is closed after it.
 */
export const RELAY_ERROR_CODES = [
  'bad-json', // frame is not valid JSON, or not a JSON object
  'bad-message', // a known type with missing or wrongly typed fields
  'unknown-type', // `type` is not one this relay knows
  'frame-too-large', // frame over the relay's maxFrameBytes
  'binary-frame', // binary WebSocket frames are not part of the protocol
  'rate-limited', // over the per-connection message or byte rate, or the address's join rate
  'version-mismatch', // `join.v` is not PROTOCOL_VERSION
  'room-name-invalid', // empty or longer than maxRoomNameLength
  'too-many-rooms', // over maxRoomsPerConnection
  'room-full', // the room has maxPeersPerRoom members
  'already-joined', // join for a room this connection is already in
  'peer-id-invalid', // join.peerId is not 1-64 chars of [A-Za-z0-9_-]
  'peer-id-taken', // join.peerId is held by another connection in that room (or remembered under another resume key)
  'resume-key-invalid', // join.resumeKey is not 16-128 chars of [A-Za-z0-9_-]
  'peer-id-resumed', // not a refusal: a join with this membership's resume key took it over; closed 1000 if it was the connection's last
  'not-in-room', // leave/signal for a room this connection has not joined
  'unknown-peer', // signal `to` is not in that room
  'token-required', // the relay has a secret and join had no token
  'token-invalid', // malformed token or bad signature
  'token-expired', // token past its expiry
  'token-wrong-room', // token is for another room
  'server-full', // connection refused: maxConnections reached
  'too-many-connections-from-ip', // connection refused: maxConnectionsPerIp reached
  'too-many-sockets-from-ip', // never in an error frame: TCP socket answered HTTP 429, maxSocketsPerIp reached (metrics and logs)
  'origin-not-allowed', // connection refused: Origin not in the allowlist
  'abuse', // too many refused messages: the connection is being closed
] as const;

export type RelayErrorCode = (typeof RELAY_ERROR_CODES)[number];

/**
 * WebSocket close codes the relay uses.
 * 1000 for a connection whose last membership another connection resumed (`peer-id-resumed`);
 * 1001 on shutdown; 1008 policy violation (abuse, origin, limits at connect);
 * 1009 frame too large; 1013 try again later (server full, or reason
 * `partial-bytes-over-budget`: the connection held the most of the bytes still arriving).
 */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
} as const;
