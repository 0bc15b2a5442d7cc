/**
 * Input codecs: how one player's input for one frame becomes a few bytes on the wire.
 * Fixed-size codecs (`byteLength` set) let the wire format skip per-input lengths.
 */
import { MeshpartyError } from '../util/errors.js';

/**
 * Encodes one player's input for one frame. `decode` must accept every `encode` output.
 *
 * @example
 * ```ts
 * // A steering angle in 256 steps, one byte a frame.
 * const steering: InputCodec<number> = {
 *   byteLength: 1,
 *   neutral: 128,
 *   encode: (angle) => Uint8Array.of(angle),
 *   decode: (bytes) => bytes[0]!,
 * };
 * ```
 */
export interface InputCodec<I> {
  /** Bytes per encoded input when fixed; omit for variable-size inputs (at most 255 bytes). */
  readonly byteLength?: number;
  /** The input used when a player has not pressed anything (and for frames before the first real input). */
  readonly neutral: I;
  encode(input: I): Uint8Array;
  /** Throws a MeshpartyError (`bad-input`) when the bytes are not a valid input. */
  decode(bytes: Uint8Array): I;
}

/**
 * The decoded value of a {@link bitfieldInput}: one boolean per button name.
 *
 * @example
 * ```ts
 * type Pad = Buttons<'left' | 'right' | 'fire'>;
 * const turn = (pad: Pad) => (pad.left ? -1 : 0) + (pad.right ? 1 : 0);
 * ```
 */
export type Buttons<Name extends string> = { readonly [K in Name]: boolean };

/**
 * The default codec: one bit per named button, packed into ceil(n/8) bytes. Takes 1 to 64
 * names (else throws a MeshpartyError `bad-codec`).
 *
 * @example
 * ```ts
 * const input = bitfieldInput(['up', 'down', 'left', 'right', 'fire'] as const);
 * input.encode({ up: true, down: false, left: false, right: false, fire: true }); // 1 byte
 * ```
 */
export function bitfieldInput<const Name extends string>(names: readonly Name[]): InputCodec<Buttons<Name>> {
  if (names.length === 0 || names.length > 64) throw new MeshpartyError('bad-codec', 'bitfieldInput needs 1 to 64 names');
  const byteLength = Math.ceil(names.length / 8);
  const neutral = Object.fromEntries(names.map((n) => [n, false])) as Buttons<Name>;
  return {
    byteLength,
    neutral,
    encode(input) {
      const out = new Uint8Array(byteLength);
      names.forEach((n, i) => {
        if (input[n]) out[i >> 3]! |= 1 << (i & 7);
      });
      return out;
    },
    decode(bytes) {
      if (bytes.length !== byteLength) throw new MeshpartyError('bad-input', `expected ${byteLength} input bytes, got ${bytes.length}`);
      const out: Record<string, boolean> = {};
      names.forEach((n, i) => {
        out[n] = (bytes[i >> 3]! & (1 << (i & 7))) !== 0;
      });
      // Bits beyond the last name must be zero: anything else is not a valid encoding.
      const spare = names.length & 7;
      if (spare && bytes[byteLength - 1]! >> spare) throw new MeshpartyError('bad-input', 'unused input bits set');
      return out as Buttons<Name>;
    },
  };
}

/**
 * A raw fixed-size codec: the input is the bytes themselves (for games that pack their
 * own inputs, e.g. an analog stick quantized to two signed bytes). `byteLength` is 1 to
 * 255 (else throws a MeshpartyError `bad-codec`).
 *
 * @example
 * ```ts
 * const input = bytesInput(4); // inputs are Uint8Array(4)
 * ```
 */
export function bytesInput(byteLength: number): InputCodec<Uint8Array> {
  if (!Number.isInteger(byteLength) || byteLength < 1 || byteLength > 255) throw new MeshpartyError('bad-codec', 'bytesInput needs 1 to 255 bytes');
  return {
    byteLength,
    neutral: new Uint8Array(byteLength),
    encode: (input) => {
      if (input.length !== byteLength) throw new MeshpartyError('bad-input', `expected ${byteLength} bytes`);
      return input.slice();
    },
    decode: (bytes) => {
      if (bytes.length !== byteLength) throw new MeshpartyError('bad-input', `expected ${byteLength} input bytes, got ${bytes.length}`);
      return bytes.slice();
    },
  };
}
