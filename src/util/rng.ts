/**
 * A tiny seeded pseudo-random generator (mulberry32: 32-bit state, fast, good enough for
 * simulation and tests, NOT for cryptography). Same seed, same sequence, on every
 * platform, so a failing seeded test can be replayed exactly.
 */

/**
 * A seeded source of pseudo-random numbers (see {@link createRng}).
 *
 * @example
 * ```ts
 * const shuffle = <T>(xs: T[], rng: Rng) => xs.map((x) => [rng.next(), x] as const).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
 * ```
 */
export interface Rng {
  /** The next float in [0, 1). */
  next(): number;
  /** The next integer in [0, n). */
  int(n: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/**
 * Create a mulberry32 generator from a 32-bit seed.
 *
 * @example
 * ```ts
 * const rng = createRng(42);
 * const die = 1 + rng.int(6);
 * if (rng.chance(0.05)) dropPacket();
 * ```
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
  };
}
