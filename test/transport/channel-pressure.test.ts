import { describe, expect, it } from 'vitest';
import { ChannelPressure, type PressuredChannel } from '../../src/transport/channel-pressure.js';
import { ManualClock } from '../../src/util/clock.js';

/** A wrtc-like channel (no bufferedamountlow) that counts how often `bufferedAmount` is read. */
function fakeChannel() {
  const ch = {
    native: 0,
    reads: 0,
    get bufferedAmount() {
      ch.reads++;
      return ch.native;
    },
  };
  return ch as typeof ch & PressuredChannel;
}

describe('ChannelPressure', () => {
  it('never reads the channel while small sends stay under the low-water mark', () => {
    const clock = new ManualClock();
    const ch = fakeChannel();
    const p = new ChannelPressure(ch, 1000, clock, 2, () => {});
    for (let i = 0; i < 9; i++) {
      p.sent(100);
      expect(p.amount).toBe((i + 1) * 100);
    }
    clock.advance(100);
    expect(ch.reads).toBe(0);
  });

  it('reads the channel a timer after the bound passes the mark, then polls until it drains', () => {
    const clock = new ManualClock();
    const ch = fakeChannel();
    let drains = 0;
    const p = new ChannelPressure(ch, 1000, clock, 2, () => drains++);
    ch.native = 1500; // the native side has seen the bytes by the time it is read
    p.sent(1500);
    expect(p.amount).toBe(1500);
    expect(ch.reads).toBe(0); // not in the task that sent
    clock.advance(0);
    expect(ch.reads).toBe(1);
    expect(drains).toBe(0);
    ch.native = 400;
    clock.advance(2);
    expect(drains).toBe(1);
    expect(p.amount).toBe(400);
    const reads = ch.reads;
    clock.advance(100);
    expect(ch.reads).toBe(reads); // no polling once below the mark
  });

  it('stays an upper bound: bytes sent after a reading are added to it', () => {
    const clock = new ManualClock();
    const ch = fakeChannel();
    let drains = 0;
    const p = new ChannelPressure(ch, 1000, clock, 2, () => drains++);
    ch.native = 2000;
    p.sent(2000);
    clock.advance(0); // reads 2000: above, polling
    p.sent(300);
    expect(p.amount).toBe(2300);
    ch.native = 0;
    clock.advance(2);
    expect(drains).toBe(1);
    expect(p.amount).toBe(0);
  });

  it('a bound that overestimated drains on the first reading (harmless extra drain)', () => {
    const clock = new ManualClock();
    const ch = fakeChannel();
    let drains = 0;
    const p = new ChannelPressure(ch, 1000, clock, 2, () => drains++);
    for (let i = 0; i < 11; i++) p.sent(100); // the native side sent them all at once
    clock.advance(0);
    expect(ch.reads).toBe(1);
    expect(drains).toBe(1);
    expect(p.amount).toBe(0);
  });

  it('stop() cancels the pending reading', () => {
    const clock = new ManualClock();
    const ch = fakeChannel();
    const p = new ChannelPressure(ch, 1000, clock, 2, () => {});
    p.sent(5000);
    p.stop();
    clock.advance(100);
    expect(ch.reads).toBe(0);
  });
});
