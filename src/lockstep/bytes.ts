/**
 * Small binary writer/reader used by the lockstep wire format and by game state
 * serializers. Integers only (u8, u16, u32, unsigned/zigzag varints), bytes and UTF-8
 * strings: no floats, so the same state always serializes to the same bytes.
 */
import { MeshpartyError } from '../util/errors.js';

/**
 * Appends values to a growable byte buffer.
 *
 * @example
 * ```ts
 * const w = new ByteWriter();
 * w.u8(1); w.varint(300); w.string('p1');
 * const bytes = w.finish();
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array;
  #len = 0;

  constructor(initialSize = 64) {
    this.#buf = new Uint8Array(initialSize);
  }

  get length(): number {
    return this.#len;
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  u8(v: number): this {
    this.#room(1);
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.#room(2);
    this.#buf[this.#len++] = (v >>> 8) & 0xff;
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.#room(4);
    this.#buf[this.#len++] = (v >>> 24) & 0xff;
    this.#buf[this.#len++] = (v >>> 16) & 0xff;
    this.#buf[this.#len++] = (v >>> 8) & 0xff;
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }

  /** Unsigned LEB128, for integers in [0, 2^53). */
  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new MeshpartyError('bad-varint', `not a non-negative integer: ${v}`);
    while (v >= 0x80) {
      this.u8((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    return this.u8(v);
  }

  /** Zigzag varint for small signed integers. */
  svarint(v: number): this {
    return this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** Raw bytes, no length prefix. */
  raw(b: Uint8Array): this {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): this {
    return this.varint(b.length).raw(b);
  }

  /** Length-prefixed UTF-8 string. */
  string(s: string): this {
    return this.bytes(new TextEncoder().encode(s));
  }

  /** The written bytes (a copy sized to fit). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/**
 * Reads what a {@link ByteWriter} wrote. Every read checks bounds and throws a
 * `MeshpartyError` with code `bad-message` on truncated or malformed input, so callers
 * decoding peer data wrap one try/catch around the whole decode.
 *
 * @example
 * ```ts
 * const r = new ByteReader(bytes);
 * const kind = r.u8(); const n = r.varint(); const who = r.string();
 * ```
 */
export class ByteReader {
  #pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.#pos;
  }

  #need(n: number): void {
    if (this.#pos + n > this.buf.length) throw new MeshpartyError('bad-message', 'truncated message');
  }

  u8(): number {
    this.#need(1);
    return this.buf[this.#pos++]!;
  }

  u16(): number {
    this.#need(2);
    const v = (this.buf[this.#pos]! << 8) | this.buf[this.#pos + 1]!;
    this.#pos += 2;
    return v;
  }

  u32(): number {
    this.#need(4);
    const b = this.buf;
    const p = this.#pos;
    this.#pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8();
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 0x80;
    }
    throw new MeshpartyError('bad-message', 'varint too long');
  }

  svarint(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  raw(n: number): Uint8Array {
    this.#need(n);
    const out = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  bytes(): Uint8Array {
    return this.raw(this.varint());
  }

  string(): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes());
  }

  /** Throws unless every byte was consumed (trailing garbage means a bad message). */
  end(): void {
    if (this.remaining !== 0) throw new MeshpartyError('bad-message', `${this.remaining} trailing bytes`);
  }
}
