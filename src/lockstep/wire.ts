/**
 * The lockstep wire format (see PROTOCOL.md, "Lockstep wire format"): one binary input
 * packet on the unreliable channel, and small control messages on the reliable one.
 * Encoders are pure; decoders throw MeshpartyError `bad-message` and the session drops
 * the message with a logged reason.
 */
import type { PeerId } from '../mesh/types.js';
import { MeshpartyError } from '../util/errors.js';
import { fnv1a32 } from '../util/fnv1a.js';
import { ByteReader, ByteWriter } from './bytes.js';

/** The largest input delay the wire carries, in frames (a session keeps its delay within it: input-delay.ts). */
export const MAX_WIRE_INPUT_DELAY = 60;

/** Message kinds (first byte). */
export const Kind = {
  input: 1,
  hello: 2,
  start: 3,
  join: 4,
  joinAck: 5,
  snapshot: 6,
  hash: 7,
  leave: 8,
  report: 9,
  drop: 10,
  stateReq: 11,
  stateRes: 12,
  cutOff: 13,
  relay: 14,
} as const;

/**
 * Version of the lockstep wire format, carried by `hello`; a peer speaking another version
 * is refused (its hellos are bad messages). 2: admissions are named by their join frame
 * (`since` in leave/report/drop, `join.members` as (since, id) pairs) and hello carries
 * `after`. 3: input packets have a 2-byte head and travel on a channel per generation.
 * 4: `cutOff` tells a receiver too far behind that a player stopped sending it inputs.
 * 5: `hash` carries a digest of the players the sender stepped that frame with.
 * 6: `gen` is 32 bits, a digest of the start's seed and its starter (see generationOf).
 * 7: spectators get the inputs of players they have no connection to forwarded by a
 * player on `<prefix>:fwd:<gen>` (relayWant / relayed inputs, see input-relay.ts).
 * 8: `relay` carries control between the coordinator and a spectator it has no connection
 * to, and hashes between a spectator and players it has none to, through a player that
 * reaches both (control-relay.ts).
 * 9: `hash` carries the sender's current input delay (`inputDelay: 'auto'` adapts it during
 * the game; time sync needs it to tell a player's frame from its inputs, input-delay.ts).
 * 10: `hello` carries the players of the game the sender runs, so the two halves of a game
 * split by a network outage find each other when it heals (split-games.ts).
 * 11: `hello` carries a frame, so at equal size the half that kept playing wins (split-games.ts).
 */
export const LOCKSTEP_WIRE_VERSION = 11;

/**
 * What a member of a game does: a player sends inputs every frame, a spectator only
 * receives them and steps the same frames.
 *
 * @example
 * ```ts
 * session.on('player-joined', ({ peer, role }: { peer: PeerId; role: Role }) => toast(`${nameOf(peer)} joined as a ${role}`));
 * ```
 */
export type Role = 'player' | 'spectator';
const roleByte = (r: Role) => (r === 'player' ? 0 : 1);
const byteRole = (b: number): Role => {
  if (b > 1) throw new MeshpartyError('bad-message', `bad role ${b}`);
  return b === 0 ? 'player' : 'spectator';
};

/** Session parameters every member must share. */
export interface SessionConfig {
  seed: number;
  tickHz: number;
  delay: number;
  hashEvery: number;
}

/**
 * One input packet: the sender's inputs for frames `first .. first+inputs.length-1`
 * (everything the receiver has not acknowledged), and `ack`, the next frame of the
 * receiver's inputs the sender still needs. `first + inputs.length` is the next frame
 * the sender will produce, which is how the receiver estimates the sender's frame.
 */
export interface InputPacket {
  ack: number;
  first: number;
  inputs: Uint8Array[];
}

/** An input packet as read off the wire, before its frame numbers are resolved. */
export interface RawInputPacket {
  /** `end mod 2048`, where `end = first + inputs.length`. */
  tag: number;
  /** `ack - end`. */
  ackDelta: number;
  inputs: Uint8Array[];
}

/**
 * Input packets of a session travel on their own unreliable channel, named after the
 * session's generation: packets of an earlier session still in flight arrive on another
 * channel and never meet this one, and no packet spends a byte on it.
 */
export function inputChannelName(prefix: string, gen: number): string {
  return `${prefix}:in:${gen}`;
}

/**
 * The generation of a session started by `starter` with `seed`: 32 bits, in every control
 * message and the input channel name. It names one start, not just a seed: two friends
 * pressing Start at once (concurrent-starts.ts) make two games whose messages must be told
 * apart, even with the same seed (an app may fix it); a start whose `gen` is not this is
 * refused. Before version 6 it was one byte of the seed alone, so 1 start pair in 256 (and
 * every pair with the same seed) could not be told apart and stayed two games.
 *
 * @example
 * ```ts
 * inputChannelName('lockstep', generationOf(42, 'a')); // 'lockstep:in:<32-bit number>'
 * ```
 */
export function generationOf(seed: number, starter: PeerId): number {
  const head = new ByteWriter(4).u32(seed >>> 0).finish();
  return fnv1a32(new TextEncoder().encode(starter), fnv1a32(head));
}

/**
 * Forwarded inputs (input-relay.ts) travel on their own unreliable channel of the
 * generation: a spectator's `want` (which players' inputs it asks the forwarder for, and
 * the next frame of each it lacks) and the forwarder's packets of one player's inputs.
 *
 * @example
 * ```ts
 * relayChannelName('lockstep', gen); // 'lockstep:fwd:<gen>'
 * ```
 */
export function relayChannelName(prefix: string, gen: number): string {
  return `${prefix}:fwd:${gen}`;
}

/**
 * A message on the relay channel: a spectator's `want` (to its chosen forwarder: for each
 * player, the first frame of its inputs the spectator still lacks), or a forwarder's
 * `inputs` of one player (an input packet as on the input channel, its `ack` unused).
 */
export type RelayMessage = { type: 'want'; wants: Array<[PeerId, number]> } | { type: 'inputs'; player: PeerId; packet: Uint8Array };
const RELAY_WANT = 1;
const RELAY_INPUTS = 2;

/** Encode a relay-channel message (PROTOCOL.md, "Forwarded inputs"). */
export function encodeRelay(m: RelayMessage): Uint8Array {
  if (m.type === 'inputs') return new ByteWriter(m.packet.length + 16).u8(RELAY_INPUTS).string(m.player).raw(m.packet).finish();
  const w = new ByteWriter().u8(RELAY_WANT).varint(m.wants.length);
  for (const [p, next] of m.wants) w.string(p).varint(next);
  return w.finish();
}

/** Decode a relay-channel message; throws `bad-message`. The inputs packet stays encoded (decodeInputPacket). */
export function decodeRelay(bytes: Uint8Array): RelayMessage {
  const r = new ByteReader(bytes);
  const type = r.u8();
  if (type === RELAY_INPUTS) {
    const player = r.string();
    return { type: 'inputs', player, packet: r.raw(r.remaining).slice() };
  }
  if (type !== RELAY_WANT) throw new MeshpartyError('bad-message', `unknown relay message type ${type}`);
  const n = r.varint();
  if (n > 256) throw new MeshpartyError('bad-message', 'too many players wanted');
  const wants = Array.from({ length: n }, () => [r.string(), r.varint()] as [PeerId, number]);
  r.end();
  return { type: 'want', wants };
}

const TAG_MOD = 2048;
/** A resolved `end` lies within this many frames of the receiver's reference (17 s at 60 Hz either way). */
export const INPUT_FRAME_WINDOW = TAG_MOD / 2;
/** The most inputs one packet carries (a receiver further behind gets the oldest first). */
export const MAX_INPUTS_PER_PACKET = 255;
const MAX_COUNT = MAX_INPUTS_PER_PACKET;
const ACK_ESCAPE = 15;
const zigzag = (v: number) => (v >= 0 ? v * 2 : -v * 2 - 1);
const unzigzag = (z: number) => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
const repeated = (bits: Uint8Array, i: number) => (bits[(i - 1) >> 3]! & (1 << ((i - 1) & 7))) !== 0;

/**
 * Encode an input packet (PROTOCOL.md, "Lockstep wire format"). Two bytes of head: the
 * sender's next frame modulo 2048 (the receiver knows it to within a few frames, so 11
 * bits resolve it), a repeat flag and the ack relative to that frame (escaped when far).
 * Without repeats the inputs follow and their count is the packet's length; with
 * repeats a count and a bitmap of "same as the one before" come first, so a held input
 * costs one bit per frame. `byteLength` is the codec's fixed input size, or undefined
 * for length-prefixed inputs.
 */
export function encodeInputPacket(p: InputPacket, byteLength: number | undefined): Uint8Array {
  const n = p.inputs.length;
  if (n > MAX_COUNT) throw new MeshpartyError('bad-message', `at most ${MAX_COUNT} inputs per packet`);
  const end = p.first + n;
  const bits = new Uint8Array(n > 1 ? (n + 6) >> 3 : 0);
  let anyRepeat = false;
  for (let i = 1; i < n; i++) {
    if (!equalBytes(p.inputs[i]!, p.inputs[i - 1]!)) continue;
    bits[(i - 1) >> 3]! |= 1 << ((i - 1) & 7);
    anyRepeat = true;
  }
  const ack = zigzag(p.ack - end);
  const w = new ByteWriter(8 + n * ((byteLength ?? 4) + 1));
  w.u16(((end % TAG_MOD) << 5) | (anyRepeat ? 16 : 0) | Math.min(ack, ACK_ESCAPE));
  if (ack >= ACK_ESCAPE) w.varint(ack);
  if (anyRepeat) w.u8(n).raw(bits);
  for (let i = 0; i < n; i++) {
    if (anyRepeat && i > 0 && repeated(bits, i)) continue;
    if (byteLength === undefined) w.bytes(p.inputs[i]!);
    else w.raw(p.inputs[i]!);
  }
  return w.finish();
}

/** Decode the bytes of an input packet completely; throws `bad-message`. */
export function decodeInputPacket(bytes: Uint8Array, byteLength: number | undefined): RawInputPacket {
  const r = new ByteReader(bytes);
  const head = r.u16();
  let ack = head & 15;
  if (ack === ACK_ESCAPE) ack = r.varint();
  const inputs: Uint8Array[] = [];
  const read = () => (byteLength === undefined ? r.bytes() : r.raw(byteLength)).slice();
  if (head & 16) {
    const n = r.u8();
    if (n < 2) throw new MeshpartyError('bad-message', 'repeat flag without inputs to repeat');
    const bits = r.raw((n + 6) >> 3);
    if ((n - 1) & 7 && bits[bits.length - 1]! >> ((n - 1) & 7)) throw new MeshpartyError('bad-message', 'repeat bits past the last input');
    for (let i = 0; i < n; i++) inputs.push(i > 0 && repeated(bits, i) ? inputs[i - 1]! : read());
    r.end();
  } else if (byteLength !== undefined) {
    if (byteLength === 0 || r.remaining % byteLength !== 0) throw new MeshpartyError('bad-message', 'input bytes are not a whole number of inputs');
    while (r.remaining > 0) inputs.push(read());
  } else {
    while (r.remaining > 0) inputs.push(read());
  }
  if (inputs.length > MAX_COUNT) throw new MeshpartyError('bad-message', `${inputs.length} inputs in one packet`);
  return { tag: head >> 5, ackDelta: unzigzag(ack), inputs };
}

/**
 * Frame numbers of a decoded packet: `end` is the value with this tag nearest to `ref`,
 * the receiver's expectation of the sender's next frame (the first of its inputs still
 * missing). Undefined when the frames would be negative (a packet that cannot be).
 */
export function resolveInputPacket(raw: RawInputPacket, ref: number): InputPacket | undefined {
  let d = (raw.tag - ref) % TAG_MOD;
  if (d < 0) d += TAG_MOD;
  if (d >= INPUT_FRAME_WINDOW) d -= TAG_MOD;
  const end = ref + d;
  const first = end - raw.inputs.length;
  const ack = end + raw.ackDelta;
  if (first < 0 || ack < 0) return undefined;
  return { ack, first, inputs: raw.inputs };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Control messages (reliable channel). */
export type Control =
  | {
      kind: typeof Kind.hello;
      role: Role;
      started: boolean;
      connected: PeerId[];
      /** Earliest join frame this peer accepts (past every frame of an admission it left); 0 if never admitted. */
      after: number;
      /**
       * The players of the game the sender runs, not leaving or dropped (split-games.ts);
       * empty in the lobby and while joining. Encoded empty when absent.
       */
      players?: PeerId[];
      /**
       * The sender's frame: to a player whose admission it dropped from its game, the frame
       * it had reached as it first met that player again over this connection (the same in
       * every hello to it); otherwise its current frame; 0 unless running (split-games.ts).
       * Encoded 0 when absent.
       */
      frame?: number;
    }
  | ({ kind: typeof Kind.start; gen: number; startFrame: number; players: PeerId[]; spectators: PeerId[] } & SessionConfig)
  | ({
      kind: typeof Kind.join;
      gen: number;
      peer: PeerId;
      role: Role;
      atFrame: number;
      /** Every member with its admission frame (start frame or join frame): [since, id]. */
      members: Array<[number, PeerId]>;
    } & SessionConfig)
  | { kind: typeof Kind.joinAck; gen: number; peer: PeerId; atFrame: number }
  | ({
      kind: typeof Kind.snapshot;
      gen: number;
      frame: number;
      players: PeerId[];
      spectators: PeerId[];
      /** Joins and drops already agreed for frames at or after `frame`. */
      joins: Array<[number, PeerId]>;
      drops: Array<[number, PeerId]>;
      state: Uint8Array;
    } & SessionConfig)
  /** `delay`: the sender's input delay as it hashed `frame` (0–60; a spectator's is the start's). */
  | { kind: typeof Kind.hash; gen: number; frame: number; hash: number; players: number; delay: number }
  /** `since` names the admission (its start or join frame): a leave from an earlier admission of the same peer is stale. */
  | { kind: typeof Kind.leave; gen: number; peer: PeerId; since: number }
  | { kind: typeof Kind.report; gen: number; leaver: PeerId; since: number; next: number; base: number; inputs: Uint8Array[] }
  | { kind: typeof Kind.drop; gen: number; leaver: PeerId; since: number; atFrame: number; base: number; inputs: Uint8Array[] }
  | { kind: typeof Kind.stateReq; gen: number; frame: number }
  | { kind: typeof Kind.stateRes; gen: number; frame: number; state: Uint8Array | undefined }
  /**
   * The sender (a player) no longer sends its inputs to the receiver's admission `since`:
   * the receiver acknowledged nothing past `acked`, more than MAX_RESEND_BACKLOG frames back.
   */
  | { kind: typeof Kind.cutOff; gen: number; since: number; acked: number }
  /**
   * A control message passed on by a player (control-relay.ts): to the coordinator, the
   * lobby `hello` of spectator `peer`, which has no connection to it; to a spectator, a
   * `join`, `drop` or `snapshot` that `peer` (a player it has no connection to) sent; a
   * `hash` of `peer` either way between a spectator and a player it reaches only through
   * the sender (from the spectator to its forwarder: its own, `peer` itself).
   */
  | { kind: typeof Kind.relay; peer: PeerId; control: Uint8Array };

const writeIds = (w: ByteWriter, ids: readonly PeerId[]) => {
  w.varint(ids.length);
  for (const id of ids) w.string(id);
};
const readIds = (r: ByteReader, max = 256) => {
  const n = r.varint();
  if (n > max) throw new MeshpartyError('bad-message', 'too many ids');
  return Array.from({ length: n }, () => r.string());
};
const writeConfig = (w: ByteWriter, c: SessionConfig) => w.u32(c.seed).u8(c.tickHz).u8(c.delay).varint(c.hashEvery);
const readConfig = (r: ByteReader): SessionConfig => {
  const c = { seed: r.u32(), tickHz: r.u8(), delay: r.u8(), hashEvery: r.varint() };
  if (c.tickHz < 1 || c.hashEvery < 1 || c.delay > MAX_WIRE_INPUT_DELAY) throw new MeshpartyError('bad-message', 'bad session config');
  return c;
};
const writeInputs = (w: ByteWriter, inputs: readonly Uint8Array[]) => {
  w.varint(inputs.length);
  for (const i of inputs) w.bytes(i);
};
const readInputs = (r: ByteReader) => {
  const n = r.varint();
  if (n > 4096) throw new MeshpartyError('bad-message', 'too many inputs');
  return Array.from({ length: n }, () => r.bytes().slice());
};
const writePairs = (w: ByteWriter, pairs: ReadonlyArray<readonly [number, PeerId]>) => {
  w.varint(pairs.length);
  for (const [f, p] of pairs) w.varint(f).string(p);
};
const readPairs = (r: ByteReader) => {
  const n = r.varint();
  if (n > 256) throw new MeshpartyError('bad-message', 'too many entries');
  return Array.from({ length: n }, () => [r.varint(), r.string()] as [number, PeerId]);
};

/** Encode a control message. */
export function encodeControl(m: Control): Uint8Array {
  const w = new ByteWriter().u8(m.kind);
  switch (m.kind) {
    case Kind.hello:
      w.u8(LOCKSTEP_WIRE_VERSION).u8(roleByte(m.role)).u8(m.started ? 1 : 0);
      writeIds(w, m.connected);
      w.varint(m.after);
      writeIds(w, m.players ?? []);
      w.varint(m.frame ?? 0);
      break;
    case Kind.start:
      w.u32(m.gen).varint(m.startFrame);
      writeConfig(w, m);
      writeIds(w, m.players);
      writeIds(w, m.spectators);
      break;
    case Kind.join:
      w.u32(m.gen).string(m.peer).u8(roleByte(m.role)).varint(m.atFrame);
      writeConfig(w, m);
      writePairs(w, m.members);
      break;
    case Kind.joinAck:
      w.u32(m.gen).string(m.peer).varint(m.atFrame);
      break;
    case Kind.snapshot:
      w.u32(m.gen).varint(m.frame);
      writeConfig(w, m);
      writeIds(w, m.players);
      writeIds(w, m.spectators);
      writePairs(w, m.joins);
      writePairs(w, m.drops);
      w.bytes(m.state);
      break;
    case Kind.hash:
      w.u32(m.gen).varint(m.frame).u32(m.hash).u32(m.players).u8(m.delay);
      break;
    case Kind.leave:
      w.u32(m.gen).string(m.peer).varint(m.since);
      break;
    case Kind.report:
      w.u32(m.gen).string(m.leaver).varint(m.since).varint(m.next).varint(m.base);
      writeInputs(w, m.inputs);
      break;
    case Kind.drop:
      w.u32(m.gen).string(m.leaver).varint(m.since).varint(m.atFrame).varint(m.base);
      writeInputs(w, m.inputs);
      break;
    case Kind.stateReq:
      w.u32(m.gen).varint(m.frame);
      break;
    case Kind.stateRes:
      w.u32(m.gen).varint(m.frame).u8(m.state ? 1 : 0);
      if (m.state) w.bytes(m.state);
      break;
    case Kind.cutOff:
      w.u32(m.gen).varint(m.since).varint(m.acked);
      break;
    case Kind.relay:
      w.string(m.peer).bytes(m.control);
      break;
  }
  return w.finish();
}

/** Decode a control message (kind byte included); throws `bad-message`. */
export function decodeControl(bytes: Uint8Array): Control {
  const r = new ByteReader(bytes);
  const kind = r.u8();
  let m: Control;
  switch (kind) {
    case Kind.hello: {
      const version = r.u8();
      if (version !== LOCKSTEP_WIRE_VERSION) throw new MeshpartyError('bad-message', `lockstep wire version ${version}, this peer speaks ${LOCKSTEP_WIRE_VERSION}`, { wireVersion: version });
      m = { kind, role: byteRole(r.u8()), started: r.u8() === 1, connected: readIds(r), after: r.varint(), players: readIds(r), frame: r.varint() };
      break;
    }
    case Kind.start: {
      const gen = r.u32();
      const startFrame = r.varint();
      m = { kind, gen, startFrame, ...readConfig(r), players: readIds(r), spectators: readIds(r) };
      break;
    }
    case Kind.join: {
      const gen = r.u32();
      const peer = r.string();
      const role = byteRole(r.u8());
      const atFrame = r.varint();
      m = { kind, gen, peer, role, atFrame, ...readConfig(r), members: readPairs(r) };
      break;
    }
    case Kind.joinAck:
      m = { kind, gen: r.u32(), peer: r.string(), atFrame: r.varint() };
      break;
    case Kind.snapshot: {
      const gen = r.u32();
      const frame = r.varint();
      const config = readConfig(r);
      m = { kind, gen, frame, ...config, players: readIds(r), spectators: readIds(r), joins: readPairs(r), drops: readPairs(r), state: r.bytes().slice() };
      break;
    }
    case Kind.hash:
      m = { kind, gen: r.u32(), frame: r.varint(), hash: r.u32(), players: r.u32(), delay: r.u8() };
      if (m.delay > MAX_WIRE_INPUT_DELAY) throw new MeshpartyError('bad-message', `input delay ${m.delay} over ${MAX_WIRE_INPUT_DELAY}`);
      break;
    case Kind.leave:
      m = { kind, gen: r.u32(), peer: r.string(), since: r.varint() };
      break;
    case Kind.report:
      m = { kind, gen: r.u32(), leaver: r.string(), since: r.varint(), next: r.varint(), base: r.varint(), inputs: readInputs(r) };
      break;
    case Kind.drop:
      m = { kind, gen: r.u32(), leaver: r.string(), since: r.varint(), atFrame: r.varint(), base: r.varint(), inputs: readInputs(r) };
      break;
    case Kind.stateReq:
      m = { kind, gen: r.u32(), frame: r.varint() };
      break;
    case Kind.stateRes: {
      const gen = r.u32();
      const frame = r.varint();
      m = { kind, gen, frame, state: r.u8() === 1 ? r.bytes().slice() : undefined };
      break;
    }
    case Kind.cutOff:
      m = { kind, gen: r.u32(), since: r.varint(), acked: r.varint() };
      break;
    case Kind.relay:
      m = { kind, peer: r.string(), control: r.bytes().slice() };
      break;
    default:
      throw new MeshpartyError('bad-message', `unknown lockstep message kind ${kind}`);
  }
  r.end();
  return m;
}
