import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/signaling-client/backoff.js';
import { createRng } from '../../src/util/rng.js';

describe('backoffDelay', () => {
  it('doubles from initialMs up to maxMs, with jitter taking at most the jitter fraction off', () => {
    const top = () => 0.999999;
    const bottom = () => 0;
    const opts = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
    expect([0, 1, 2, 3, 4, 10, 1000].map((n) => backoffDelay(n, opts, top))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, opts, bottom))).toEqual([50, 100, 200, 400, 500]);
  });

  it('spreads clients apart: seeded jitter gives distinct delays within the band', () => {
    const rng = createRng(3);
    const delays = Array.from({ length: 50 }, () => backoffDelay(5, { initialMs: 250, maxMs: 10_000 }, rng.next));
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
    expect(new Set(delays).size).toBeGreaterThan(40);
  });

  it('uses defaults of 250 ms to 10 s and clamps a nonsense jitter', () => {
    expect(backoffDelay(0, {}, () => 0.999999)).toBe(250);
    expect(backoffDelay(99, {}, () => 0.999999)).toBe(10_000);
    expect(backoffDelay(0, { jitter: 7 }, () => 0)).toBe(0);
    expect(backoffDelay(0, { jitter: -1 }, () => 0)).toBe(250);
  });
});
