import { describe, expect, it } from 'vitest';
import { ManualClock, realClock } from '../../src/util/clock.js';

describe('ManualClock', () => {
  it('runs due timers in time order, ties in creation order, with now() at the due time', () => {
    const c = new ManualClock();
    const log: string[] = [];
    c.setTimeout(() => log.push(`b@${c.now()}`), 20);
    c.setTimeout(() => log.push(`a@${c.now()}`), 10);
    c.setTimeout(() => log.push(`c@${c.now()}`), 20);
    const cancelled = c.setTimeout(() => log.push('never'), 5);
    c.clearTimeout(cancelled);
    c.advance(15);
    expect(log).toEqual(['a@10']);
    c.advance(100);
    expect(log).toEqual(['a@10', 'b@20', 'c@20']);
    expect(c.now()).toBe(115);
    expect(c.pending).toBe(0);
  });

  it('runs timers scheduled while advancing when they fall due in the same advance', () => {
    const c = new ManualClock();
    const at: number[] = [];
    const tick = () => {
      at.push(c.now());
      if (at.length < 5) c.setTimeout(tick, 16);
    };
    c.setTimeout(tick, 16);
    c.advance(1000);
    expect(at).toEqual([16, 32, 48, 64, 80]);
  });

  it('advanceAsync lets awaited continuations run between due times', async () => {
    const c = new ManualClock();
    const log: number[] = [];
    c.setTimeout(async () => {
      await Promise.resolve();
      log.push(c.now());
      c.setTimeout(() => log.push(c.now()), 10);
    }, 10);
    await c.advanceAsync(50);
    expect(log).toEqual([10, 20]);
  });
});

describe('realClock', () => {
  it('takes a delay past the platform limit (Infinity included) as "not for a very long time", not as 1 ms', async () => {
    const clock = realClock();
    const fired: string[] = [];
    const handles = [Infinity, 2 ** 31, 1e12].map((ms) => clock.setTimeout(() => fired.push(String(ms)), ms));
    clock.setTimeout(() => fired.push('50'), 50);
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toEqual(['50']);
    for (const h of handles) clock.clearTimeout(h);
  });
});
