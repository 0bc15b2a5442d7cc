import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../src/lockstep/bytes.js';
import { DropAgreement } from '../../src/lockstep/drop-agreement.js';
import { HashBook } from '../../src/lockstep/hash-book.js';
import { InputStream } from '../../src/lockstep/input-stream.js';
import { type Control, Kind, LOCKSTEP_WIRE_VERSION, decodeControl, decodeInputPacket, encodeControl, encodeInputPacket } from '../../src/lockstep/wire.js';

const b = (...xs: number[]) => new Uint8Array(xs);

describe('input packets', () => {
  it('round-trip, writing runs of identical inputs once', () => {
    const held = b(1, 2, 3, 4);
    const p = { gen: 7, ack: 1000, first: 1003, inputs: [held, held, held, b(9, 9, 9, 9), held] };
    const bytes = encodeInputPacket(p, 4);
    // kind, gen, first (2-byte varint), ack delta, count, then 3 runs of 1 + 4 bytes.
    expect(bytes.length).toBe(1 + 1 + 2 + 1 + 1 + 3 * 5);
    const r = new ByteReader(bytes);
    expect(r.u8()).toBe(Kind.input);
    expect(decodeInputPacket(r, 4)).toEqual(p);
  });

  it('round-trip variable-size inputs and ack-only packets', () => {
    const p = { gen: 0, ack: 5, first: 9, inputs: [b(1), b(1, 2), b(1, 2)] };
    const r = new ByteReader(encodeInputPacket(p, undefined));
    r.u8();
    expect(decodeInputPacket(r, undefined)).toEqual(p);
    const ackOnly = new ByteReader(encodeInputPacket({ gen: 1, ack: 0, first: 300, inputs: [] }, 4));
    ackOnly.u8();
    expect(decodeInputPacket(ackOnly, 4)).toEqual({ gen: 1, ack: 0, first: 300, inputs: [] });
  });

  it('rejects runs that overflow the count, zero runs, truncation and trailing bytes', () => {
    const decode = (...xs: number[]) => () => {
      const r = new ByteReader(b(...xs));
      r.u8();
      return decodeInputPacket(r, 1);
    };
    expect(decode(1, 0, 10, 0, 2, 3, 7)).toThrow(/run length/); // run of 3 with count 2
    expect(decode(1, 0, 10, 0, 1, 0, 7)).toThrow(/run length/);
    expect(decode(1, 0, 10, 0, 2, 2)).toThrow(/truncated/);
    expect(decode(1, 0, 10, 0, 1, 1, 7, 7)).toThrow(/trailing/);
    expect(decode(1, 0, 1, 5, 0)).toThrow(/negative ack/); // ack = 1 + (-3)
  });
});

describe('control messages', () => {
  const config = { seed: 0xdeadbeef, tickHz: 60, delay: 3, hashEvery: 10 };
  const all: Control[] = [
    { kind: Kind.hello, role: 'spectator', started: true, connected: ['a', 'b'], after: 777 },
    { kind: Kind.start, gen: 3, startFrame: 0, players: ['a', 'b'], spectators: ['w'], ...config },
    { kind: Kind.join, gen: 3, peer: 'e', role: 'player', atFrame: 420, members: [[0, 'a'], [0, 'b'], [310, 'w']], ...config },
    { kind: Kind.joinAck, gen: 3, peer: 'e', atFrame: 420 },
    { kind: Kind.snapshot, gen: 3, frame: 420, players: ['a', 'b'], spectators: ['w'], joins: [[420, 'e']], drops: [[430, 'b']], state: b(1, 2, 3), ...config },
    { kind: Kind.hash, gen: 3, frame: 440, hash: 0xffffffff },
    { kind: Kind.leave, gen: 3, peer: 'b', since: 310 },
    { kind: Kind.report, gen: 3, leaver: 'b', since: 310, next: 500, base: 497, inputs: [b(1), b(2), b(3)] },
    { kind: Kind.drop, gen: 3, leaver: 'b', since: 310, atFrame: 502, base: 499, inputs: [b(4), b(5), b(6)] },
    { kind: Kind.stateReq, gen: 3, frame: 440 },
    { kind: Kind.stateRes, gen: 3, frame: 440, state: b(7) },
    { kind: Kind.stateRes, gen: 3, frame: 450, state: undefined },
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
    expect(() => decodeControl(b(Kind.hello, 0, 0, 0, 0))).toThrow(/lockstep wire version 0, this peer speaks 2/);
    expect(() => decodeControl(encodeControl({ ...(all[1] as Extract<Control, { kind: 3 }>), tickHz: 0 }))).toThrow(/bad session config/);
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
