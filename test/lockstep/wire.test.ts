import { describe, expect, it } from 'vitest';
import { DropAgreement } from '../../src/lockstep/drop-agreement.js';
import { HashBook } from '../../src/lockstep/hash-book.js';
import { InputStream } from '../../src/lockstep/input-stream.js';
import { type Control, type InputPacket, Kind, LOCKSTEP_WIRE_VERSION, decodeControl, decodeInputPacket, encodeControl, encodeInputPacket, generationOf, resolveInputPacket } from '../../src/lockstep/wire.js';

const b = (...xs: number[]) => new Uint8Array(xs);

describe('input packets', () => {
  const roundTrip = (p: InputPacket, byteLength: number | undefined, ref: number) => resolveInputPacket(decodeInputPacket(encodeInputPacket(p, byteLength), byteLength), ref);

  it('a new input every frame costs its bytes plus a 2-byte head (no count, no kind, no generation byte)', () => {
    const p = { ack: 1003, first: 1003, inputs: [b(1, 2, 3, 4), b(5, 6, 7, 8), b(9, 9, 9, 9)] };
    const bytes = encodeInputPacket(p, 4);
    expect(bytes.length).toBe(2 + 3 * 4);
    // The receiver knows the sender's next frame to within a few: any reference near it resolves the frames.
    for (const ref of [1003, 1000, 1010, 1006 - 1023, 1006 + 1023]) expect(resolveInputPacket(decodeInputPacket(bytes, 4), ref)).toEqual(p);
  });

  it('a held input costs one bit per repeated frame', () => {
    const held = b(1, 2, 3, 4);
    const p = { ack: 1010, first: 1003, inputs: [held, held, held, b(9, 9, 9, 9), held, held, held, held, held, held] };
    const bytes = encodeInputPacket(p, 4);
    // head, count, 2 bitmap bytes (9 repeat bits), then the 3 distinct inputs.
    expect(bytes.length).toBe(2 + 1 + 2 + 3 * 4);
    expect(roundTrip(p, 4, 1010)).toEqual(p);
  });

  it('round-trips variable-size inputs, ack-only packets and far acks (escaped)', () => {
    const p = { ack: 5, first: 9, inputs: [b(1), b(1, 2), b(1, 2)] };
    expect(roundTrip(p, undefined, 10)).toEqual(p);
    expect(roundTrip({ ack: 4, first: 9, inputs: [b(1), b(), b(3, 4, 5)] }, undefined, 9)).toEqual({ ack: 4, first: 9, inputs: [b(1), b(), b(3, 4, 5)] });
    const ackOnly = encodeInputPacket({ ack: 298, first: 300, inputs: [] }, 4);
    expect(ackOnly.length).toBe(2);
    expect(roundTrip({ ack: 298, first: 300, inputs: [] }, 4, 300)).toEqual({ ack: 298, first: 300, inputs: [] });
    // A spectator's packets: its next frame is fixed while the ack runs far ahead of it.
    expect(roundTrip({ ack: 9000, first: 300, inputs: [] }, 4, 300)).toEqual({ ack: 9000, first: 300, inputs: [] });
    // A window of 255 inputs (the most a packet carries), wrapping the 11-bit frame tag.
    const many = Array.from({ length: 255 }, (_, i) => b(i & 0xff, 0, 0, i >> 8));
    expect(roundTrip({ ack: 2040, first: 2000, inputs: many }, 4, 2010)).toEqual({ ack: 2040, first: 2000, inputs: many });
  });

  it('rejects truncation, partial inputs, bad repeat bitmaps and frames before 0', () => {
    const decode = (...xs: number[]) => () => decodeInputPacket(b(...xs), 2);
    expect(decode(0)).toThrow(/truncated/);
    expect(decode(0, 0, 7)).toThrow(/whole number of inputs/);
    expect(decode(0, 0x10, 1, 0, 7, 7)).toThrow(/repeat flag without inputs/);
    expect(decode(0, 0x10, 2, 0b10, 7, 7)).toThrow(/repeat bits past the last input/);
    expect(decode(0, 0x10, 3, 0b01, 7, 7)).toThrow(/truncated/); // 3 inputs, 1 repeated: 2 distinct needed
    expect(decode(0, 0x10, 2, 0b1, 7, 7, 8)).toThrow(/trailing/);
    expect(decode(0, 0x0f)).toThrow(/truncated/); // escaped ack without its varint
    expect(() => decodeInputPacket(b(0, 0, 1, 2, 3, 4), undefined)).toThrow(/truncated/); // input [2], then one of length 3 with only one byte left
    // End frame 2 with 3 inputs would start at frame -1.
    expect(resolveInputPacket(decodeInputPacket(encodeInputPacket({ ack: 0, first: 2045, inputs: [b(1, 1), b(2, 2), b(3, 3)] }, 2), 2), 0)).toBeUndefined();
  });
});

describe('control messages', () => {
  const config = { seed: 0xdeadbeef, tickHz: 60, delay: 3, hashEvery: 10 };
  const all: Control[] = [
    { kind: Kind.hello, role: 'spectator', started: true, connected: ['a', 'b'], after: 777, players: ['a', 'c'], frame: 123_456 },
    { kind: Kind.hello, role: 'player', started: false, connected: [], after: 0, players: [], frame: 0 },
    { kind: Kind.start, gen: 0xfedcba98, startFrame: 0, players: ['a', 'b'], spectators: ['w'], ...config },
    { kind: Kind.join, gen: 0xfedcba98, peer: 'e', role: 'player', atFrame: 420, members: [[0, 'a'], [0, 'b'], [310, 'w']], ...config },
    { kind: Kind.joinAck, gen: 0xfedcba98, peer: 'e', atFrame: 420 },
    { kind: Kind.snapshot, gen: 0xfedcba98, frame: 420, players: ['a', 'b'], spectators: ['w'], joins: [[420, 'e']], drops: [[430, 'b']], state: b(1, 2, 3), ...config },
    { kind: Kind.hash, gen: 0xfedcba98, frame: 440, hash: 0xffffffff, players: 0x12345678, delay: 7 },
    { kind: Kind.leave, gen: 0xfedcba98, peer: 'b', since: 310 },
    { kind: Kind.report, gen: 0xfedcba98, leaver: 'b', since: 310, next: 500, base: 497, inputs: [b(1), b(2), b(3)] },
    { kind: Kind.drop, gen: 0xfedcba98, leaver: 'b', since: 310, atFrame: 502, base: 499, inputs: [b(4), b(5), b(6)] },
    { kind: Kind.stateReq, gen: 0xfedcba98, frame: 440 },
    { kind: Kind.stateRes, gen: 0xfedcba98, frame: 440, state: b(7) },
    { kind: Kind.stateRes, gen: 0xfedcba98, frame: 450, state: undefined },
    { kind: Kind.cutOff, gen: 0xfedcba98, since: 310, acked: 1200 },
    { kind: Kind.relay, peer: 'a', control: encodeControl({ kind: Kind.joinAck, gen: 0xfedcba98, peer: 'e', atFrame: 420 }) },
  ];

  it('every kind round-trips', () => {
    for (const m of all) expect(decodeControl(encodeControl(m))).toEqual(m);
  });

  it('every truncation of every kind is rejected, never misread', () => {
    for (const m of all) {
      const bytes = encodeControl(m);
      for (let n = 0; n < bytes.length; n++) expect(() => decodeControl(bytes.subarray(0, n))).toThrow();
    }
    expect(() => decodeControl(b(99))).toThrow(/unknown lockstep message kind 99/);
    expect(() => decodeControl(b(Kind.hello, LOCKSTEP_WIRE_VERSION, 2, 0, 0, 0))).toThrow(/bad role/);
    // A peer speaking the version before admissions were named is refused, not misread.
    expect(() => decodeControl(b(Kind.hello, 0, 0, 0, 0))).toThrow(/lockstep wire version 0, this peer speaks 11/);
    // Nor one speaking version 3, which knows no `cutOff` (it would count ours as bad messages).
    expect(() => decodeControl(b(Kind.hello, 3, 0, 0, 0, 0))).toThrow(/lockstep wire version 3, this peer speaks 11/);
    // Nor one speaking version 5, whose one-byte generation would be misread as ours.
    expect(() => decodeControl(b(Kind.hello, 5, 0, 0, 0, 0))).toThrow(/lockstep wire version 5, this peer speaks 11/);
    // Nor one speaking version 6, which forwards no inputs (a spectator relying on it would stall).
    expect(() => decodeControl(b(Kind.hello, 6, 0, 0, 0, 0))).toThrow(/lockstep wire version 6, this peer speaks 11/);
    // Nor one speaking version 7, which relays no control (a spectator relying on it would never be admitted).
    expect(() => decodeControl(b(Kind.hello, 7, 0, 0, 0, 0))).toThrow(/lockstep wire version 7, this peer speaks 11/);
    // Nor one speaking version 8, whose `hash` carries no input delay (its hashes would be bad messages to us).
    expect(() => decodeControl(b(Kind.hello, 8, 0, 0, 0, 0))).toThrow(/lockstep wire version 8, this peer speaks 11/);
    // Nor one speaking version 9, whose hello names no players (a game split by an outage would stay split).
    expect(() => decodeControl(b(Kind.hello, 9, 0, 0, 0, 0))).toThrow(/lockstep wire version 9, this peer speaks 11/);
    // Nor one speaking version 10, whose hello says no frame (at equal size it would judge a split by ids alone, we by frames).
    expect(() => decodeControl(b(Kind.hello, 10, 0, 0, 0, 0, 0))).toThrow(/lockstep wire version 10, this peer speaks 11/);
    // An input delay over 60 is no delay a peer plays with.
    expect(() => decodeControl(encodeControl({ ...(all[6] as Extract<Control, { kind: 7 }>), delay: 61 }))).toThrow(/input delay 61 over 60/);
    expect(() => decodeControl(encodeControl({ ...(all[2] as Extract<Control, { kind: 3 }>), tickHz: 0 }))).toThrow(/bad session config/);
  });
});

describe('generations', () => {
  it('name the start, not just the seed: other starters or seeds give other 32-bit generations', () => {
    const gens = new Set<number>();
    for (const starter of ['a', 'b', 'ab', 'peer-1', 'peer-2']) for (const seed of [0, 1, 42, 191, 701, 0xffffffff]) gens.add(generationOf(seed, starter));
    expect(gens.size).toBe(30);
    expect([...gens].every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffffffff)).toBe(true);
    expect(generationOf(42, 'a')).toBe(generationOf(42, 'a'));
  });
});

describe('input streams, drop agreement and hash book', () => {
  it('an input stream tracks the first missing frame and refuses inputs once frozen', () => {
    const s = new InputStream(10, 2, b(0));
    expect(s.next).toBe(12);
    s.put(13, b(3));
    expect(s.next).toBe(12);
    s.put(12, b(2));
    expect(s.next).toBe(14);
    expect(s.range(10, 20).map((x) => x[0])).toEqual([0, 0, 2, 3]);
    s.frozen = true;
    expect(s.put(14, b(4))).toBe(false);
    expect(s.put(14, b(4), true)).toBe(true);
    expect(s.put(5, b(4), true)).toBe(false); // before the start
  });

  it('the drop frame is the largest report, and the gap up to it is filled from the reports', () => {
    const a = new DropAgreement('x');
    a.add('p', { next: 100, base: 98, inputs: [b(98), b(99)] });
    expect(a.decide(['p', 'q'])).toBeUndefined();
    a.add('q', { next: 103, base: 99, inputs: [b(99), b(100), b(101), b(102)] });
    expect(a.decide(['p', 'q'])).toEqual({ atFrame: 103, base: 100, inputs: [b(100), b(101), b(102)] });
    const gap = new DropAgreement('x');
    gap.add('p', { next: 100, base: 100, inputs: [] });
    gap.add('q', { next: 103, base: 102, inputs: [b(102)] }); // frames 100-101 known to nobody
    expect(gap.decide(['p', 'q'])).toBeUndefined();
  });

  it('the hash book judges a frame once every expected member reported, and stops waiting for leavers', () => {
    const book = new HashBook(() => 'me');
    expect(book.remote('a', 10, 5)).toBeUndefined();
    expect(book.local(10, 5, ['me', 'a', 'b'])).toBeUndefined();
    expect(book.remote('b', 10, 6)).toEqual({ frame: 10, hashes: { me: 5, a: 5, b: 6 }, equal: false });
    expect(book.local(20, 1, ['a', 'b'])).toBeUndefined();
    book.remote('a', 20, 1);
    expect(book.forget('b')).toEqual([{ frame: 20, hashes: { me: 1, a: 1 }, equal: true }]);
  });
});
