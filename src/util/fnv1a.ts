/**
 * 32-bit FNV-1a, the one small hash meshparty uses wherever two peers must compute the
 * same number from the same input (channel ids, the glare rule, state hashes). Integer
 * maths only (Math.imul), so every JavaScript engine agrees.
 */

/** FNV-1a's offset basis: the hash of nothing, and the default seed. */
export const FNV1A_OFFSET = 0x811c9dc5;

/**
 * FNV-1a, 32-bit, of `bytes` (optionally continuing from a previous hash).
 *
 * @example
 * ```ts
 * const h = fnv1a32(new TextEncoder().encode('foobar')); // 0xbf9cf968
 * ```
 */
export function fnv1a32(bytes: Uint8Array, seed = FNV1A_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * FNV-1a, 32-bit, over a string's UTF-16 code units (one step per code unit, no
 * encoding), optionally continuing from a previous hash.
 *
 * @example
 * ```ts
 * const h = fnv1a32Chars('b', fnv1a32Chars('a')); // the same as fnv1a32Chars('ab')
 * ```
 */
export function fnv1a32Chars(text: string, seed = FNV1A_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
