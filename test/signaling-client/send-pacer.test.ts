import { describe, expect, it } from 'vitest';
import { SendPacer } from '../../src/signaling-client/send-pacer.js';
import { ManualClock } from '../../src/util/clock.js';

describe('SendPacer', () => {
  it('lets a burst through, then paces at the rate, in order', () => {
    const clock = new ManualClock();
    const out: number[] = [];
    const pacer = new SendPacer<number>(clock, { perSecond: 10, burst: 5 }, (n) => out.push(n), () => {});
    for (let i = 0; i < 15; i++) pacer.push(i);
    expect(out).toEqual([0, 1, 2, 3, 4]);
    expect(pacer.queued).toBe(10);
    clock.advance(100);
    expect(out).toHaveLength(6);
    clock.advance(450);
    expect(out).toHaveLength(10);
    clock.advance(10_000);
    expect(out).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(pacer.queued).toBe(0);
  });

  it('refills the burst after a quiet spell and drops the oldest beyond maxQueued', () => {
    const clock = new ManualClock();
    const out: number[] = [];
    let dropped = 0;
    const pacer = new SendPacer<number>(clock, { perSecond: 1, burst: 2, maxQueued: 3 }, (n) => out.push(n), (n) => (dropped += n));
    for (let i = 0; i < 7; i++) pacer.push(i); // 0,1 go; 2..6 wait, capped at 3
    expect(out).toEqual([0, 1]);
    expect(dropped).toBe(2);
    clock.advance(3000);
    expect(out).toEqual([0, 1, 4, 5, 6]);
    clock.advance(60_000);
    pacer.push(7);
    pacer.push(8);
    expect(out).toEqual([0, 1, 4, 5, 6, 7, 8]);
    pacer.push(10); // out of tokens: waits
    pacer.clear(); // the connection went away: 10 is forgotten
    pacer.push(9);
    clock.advance(1000);
    expect(out).toEqual([0, 1, 4, 5, 6, 7, 8, 9]);
  });

  it('slowDown() halves the rate and the burst, down to one frame a second', () => {
    const clock = new ManualClock();
    const out: number[] = [];
    const pacer = new SendPacer<number>(clock, { perSecond: 8, burst: 4 }, (n) => out.push(n), () => {});
    pacer.slowDown();
    expect(pacer.perSecond).toBe(4);
    for (let i = 0; i < 10; i++) pacer.push(i);
    expect(out).toHaveLength(2); // the burst is 2 now
    clock.advance(1000);
    expect(out).toHaveLength(6); // 4 a second
    for (let i = 0; i < 5; i++) pacer.slowDown();
    expect(pacer.perSecond).toBe(1);
  });
});
