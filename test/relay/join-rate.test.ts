import { describe, expect, it } from 'vitest';
import { JoinRate } from '../../signaling/join-rate.js';

describe('JoinRate', () => {
  it('counts joins per address and forgets addresses whose bucket has refilled', () => {
    let now = 0;
    const rate = new JoinRate(1, 2, () => now);
    expect([rate.take('a'), rate.take('a'), rate.take('a'), rate.take('b')]).toEqual([true, true, false, true]);
    now += 1000;
    expect(rate.take('a')).toBe(true); // one refilled
    // Many addresses, each joining once: none is kept once its bucket is full again.
    for (let i = 0; i < 1000; i++) rate.take(`10.0.${i >> 8}.${i & 255}`);
    expect(rate.size).toBeGreaterThan(1000);
    now += 60_000;
    rate.take('c');
    expect(rate.size).toBe(1);
  });
});
