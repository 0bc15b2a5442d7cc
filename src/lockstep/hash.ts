/**
 * 32-bit FNV-1a over bytes: the default state hash. Integer maths only (Math.imul), so
 * every JavaScript engine computes the same value.
 */

/**
 * FNV-1a, 32-bit, of `bytes` (optionally continuing from a previous hash).
 *
 * @example
 * ```ts
 * const h = fnv1a32(game.serialize(state)); // an unsigned 32-bit integer
 * ```
 */
export function fnv1a32(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
