/**
 * A seeded random generator whose whole state is one unsigned 32-bit number, so it can
 * live inside a game state and be serialized, hashed and rolled back with it
 * (mulberry32; integer maths only, identical on every engine).
 */

/**
 * Advance the generator: returns the next unsigned 32-bit value and the next state.
 *
 * @example
 * ```ts
 * const [value, rng] = rngNext(state.rng);
 * state.rng = rng;
 * ```
 */
export function rngNext(state: number): [value: number, next: number] {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [(t ^ (t >>> 14)) >>> 0, next];
}

/**
 * An integer in [0, n) (n at most 2^21, so the product below stays exact in a double).
 *
 * @example
 * ```ts
 * const [spawn, rng] = rngInt(state.rng, 8);
 * state.rng = rng;
 * ```
 */
export function rngInt(state: number, n: number): [value: number, next: number] {
  if (!Number.isInteger(n) || n <= 0 || n > 1 << 21) throw new RangeError(`rngInt: n must be an integer in [1, 2^21], got ${n}`);
  const [v, next] = rngNext(state);
  return [Math.floor((v * n) / 4294967296), next];
}

/**
 * Mix a seed into a well-spread initial generator state.
 *
 * @example
 * ```ts
 * const state = { rng: rngSeed(seed), ... };
 * ```
 */
export function rngSeed(seed: number): number {
  return rngNext(seed >>> 0)[0];
}
