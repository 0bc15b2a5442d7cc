/**
 * The lockstep wire format (see PROTOCOL.md, "Lockstep wire format"): one binary input
 * packet on the unreliable channel, and small control messages on the reliable one.
 * Encoders are pure; decoders throw MeshpartyError `bad-message` and the session drops
 * the message with a logged reason.
 */
import type { PeerId } from '../mesh/types.js';
import { MeshpartyError } from '../util/errors.js';
import { ByteReader, ByteWriter } from './bytes.js';

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
} as const;

/**
 * Version of the control grammar, carried by `hello`. 2: admissions are named by their
 * join frame (`since` in leave/report/drop, `join.members` as (since, id) pairs) and hello
 * carries `after`; a peer speaking another version is refused (its hellos are bad messages).
 */
export const LOCKSTEP_WIRE_VERSION = 2;

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
  gen: number;
  ack: number;
  first: number;
  inputs: Uint8Array[];
}

/**
 * Encode an input packet; runs of identical inputs are written once
 * (`runLength, input`), so a held button costs one run whatever the window size.
 * `byteLength` is the codec's fixed input size, or undefined for length-prefixed inputs.
 */
export function encodeInputPacket(p: InputPacket, byteLength: number | undefined): Uint8Array {
  const w = new ByteWriter(16 + p.inputs.length * ((byteLength ?? 4) + 1));
  w.u8(Kind.input).u8(p.gen).varint(p.first).svarint(p.ack - p.first).u8(p.inputs.length);
  let i = 0;
  while (i < p.inputs.length) {
    const cur = p.inputs[i]!;
    let run = 1;
    while (run < 255 && i + run < p.inputs.length && equalBytes(p.inputs[i + run]!, cur)) run++;
    w.u8(run);
    if (byteLength === undefined) w.bytes(cur);
    else w.raw(cur);
    i += run;
  }
  return w.finish();
}

export function decodeInputPacket(r: ByteReader, byteLength: number | undefined): InputPacket {
  const gen = r.u8();
  const first = r.varint();
  const ack = first + r.svarint();
  const count = r.u8();
  const inputs: Uint8Array[] = [];
  while (inputs.length < count) {
    const run = r.u8();
    if (run === 0 || inputs.length + run > count) throw new MeshpartyError('bad-message', 'bad input run length');
    const bytes = (byteLength === undefined ? r.bytes() : r.raw(byteLength)).slice();
    for (let k = 0; k < run; k++) inputs.push(bytes);
  }
  r.end();
  if (ack < 0) throw new MeshpartyError('bad-message', 'negative ack');
  return { gen, ack, first, inputs };
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
  | { kind: typeof Kind.hash; gen: number; frame: number; hash: number }
  /** `since` names the admission (its start or join frame): a leave from an earlier admission of the same peer is stale. */
  | { kind: typeof Kind.leave; gen: number; peer: PeerId; since: number }
  | { kind: typeof Kind.report; gen: number; leaver: PeerId; since: number; next: number; base: number; inputs: Uint8Array[] }
  | { kind: typeof Kind.drop; gen: number; leaver: PeerId; since: number; atFrame: number; base: number; inputs: Uint8Array[] }
  | { kind: typeof Kind.stateReq; gen: number; frame: number }
  | { kind: typeof Kind.stateRes; gen: number; frame: number; state: Uint8Array | undefined };

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
  if (c.tickHz < 1 || c.hashEvery < 1 || c.delay > 60) throw new MeshpartyError('bad-message', 'bad session config');
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
      break;
    case Kind.start:
      w.u8(m.gen).varint(m.startFrame);
      writeConfig(w, m);
      writeIds(w, m.players);
      writeIds(w, m.spectators);
      break;
    case Kind.join:
      w.u8(m.gen).string(m.peer).u8(roleByte(m.role)).varint(m.atFrame);
      writeConfig(w, m);
      writePairs(w, m.members);
      break;
    case Kind.joinAck:
      w.u8(m.gen).string(m.peer).varint(m.atFrame);
      break;
    case Kind.snapshot:
      w.u8(m.gen).varint(m.frame);
      writeConfig(w, m);
      writeIds(w, m.players);
      writeIds(w, m.spectators);
      writePairs(w, m.joins);
      writePairs(w, m.drops);
      w.bytes(m.state);
      break;
    case Kind.hash:
      w.u8(m.gen).varint(m.frame).u32(m.hash);
      break;
    case Kind.leave:
      w.u8(m.gen).string(m.peer).varint(m.since);
      break;
    case Kind.report:
      w.u8(m.gen).string(m.leaver).varint(m.since).varint(m.next).varint(m.base);
      writeInputs(w, m.inputs);
      break;
    case Kind.drop:
      w.u8(m.gen).string(m.leaver).varint(m.since).varint(m.atFrame).varint(m.base);
      writeInputs(w, m.inputs);
      break;
    case Kind.stateReq:
      w.u8(m.gen).varint(m.frame);
      break;
    case Kind.stateRes:
      w.u8(m.gen).varint(m.frame).u8(m.state ? 1 : 0);
      if (m.state) w.bytes(m.state);
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
      if (version !== LOCKSTEP_WIRE_VERSION) throw new MeshpartyError('bad-message', `lockstep wire version ${version}, this peer speaks ${LOCKSTEP_WIRE_VERSION}`);
      m = { kind, role: byteRole(r.u8()), started: r.u8() === 1, connected: readIds(r), after: r.varint() };
      break;
    }
    case Kind.start: {
      const gen = r.u8();
      const startFrame = r.varint();
      m = { kind, gen, startFrame, ...readConfig(r), players: readIds(r), spectators: readIds(r) };
      break;
    }
    case Kind.join: {
      const gen = r.u8();
      const peer = r.string();
      const role = byteRole(r.u8());
      const atFrame = r.varint();
      m = { kind, gen, peer, role, atFrame, ...readConfig(r), members: readPairs(r) };
      break;
    }
    case Kind.joinAck:
      m = { kind, gen: r.u8(), peer: r.string(), atFrame: r.varint() };
      break;
    case Kind.snapshot: {
      const gen = r.u8();
      const frame = r.varint();
      const config = readConfig(r);
      m = { kind, gen, frame, ...config, players: readIds(r), spectators: readIds(r), joins: readPairs(r), drops: readPairs(r), state: r.bytes().slice() };
      break;
    }
    case Kind.hash:
      m = { kind, gen: r.u8(), frame: r.varint(), hash: r.u32() };
      break;
    case Kind.leave:
      m = { kind, gen: r.u8(), peer: r.string(), since: r.varint() };
      break;
    case Kind.report:
      m = { kind, gen: r.u8(), leaver: r.string(), since: r.varint(), next: r.varint(), base: r.varint(), inputs: readInputs(r) };
      break;
    case Kind.drop:
      m = { kind, gen: r.u8(), leaver: r.string(), since: r.varint(), atFrame: r.varint(), base: r.varint(), inputs: readInputs(r) };
      break;
    case Kind.stateReq:
      m = { kind, gen: r.u8(), frame: r.varint() };
      break;
    case Kind.stateRes: {
      const gen = r.u8();
      const frame = r.varint();
      m = { kind, gen, frame, state: r.u8() === 1 ? r.bytes().slice() : undefined };
      break;
    }
    default:
      throw new MeshpartyError('bad-message', `unknown lockstep message kind ${kind}`);
  }
  r.end();
  return m;
}
