/**
 * Backpressure of one RTCDataChannel: how many bytes wait to go out, and a `drain`
 * callback when that falls to the low-water mark after being above it.
 *
 * Why not just `channel.bufferedAmount` and `bufferedamountlow`: in Node's
 * `@roamhq/wrtc` the event never fires and `bufferedAmount` is updated asynchronously
 * (it still reads 0 right after a burst of `send()`s in the same task). So bytes sent
 * during the current task are counted here until the task ends, and where the event is
 * missing the channel is polled while it is above the mark. Browsers get the event.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

/** The parts of an RTCDataChannel this needs (browser and wrtc shapes alike). */
export interface PressuredChannel {
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold?: number;
  addEventListener?(type: 'bufferedamountlow', listener: () => void): void;
  removeEventListener?(type: 'bufferedamountlow', listener: () => void): void;
}

/**
 * Tracks one channel's outgoing bytes and calls `onDrain` on the falling edge.
 *
 * @example
 * ```ts
 * const p = new ChannelPressure(channel, 256 * 1024, realClock(), 2, () => pump());
 * channel.send(frame); p.sent(frame.byteLength);
 * if (p.amount > highWaterMark) return; // wait for pump() to be called
 * ```
 */
export class ChannelPressure {
  /** Bytes sent during the current task, not yet visible in `bufferedAmount`. */
  #unsettled = 0;
  #settleScheduled = false;
  #above = false;
  #pollTimer: TimerHandle | undefined;
  #stopped = false;
  readonly #hasEvent: boolean;
  readonly #onLow = () => this.#check();

  constructor(
    private readonly channel: PressuredChannel,
    private readonly lowWaterMark: number,
    private readonly clock: Clock,
    private readonly pollIntervalMs: number,
    private readonly onDrain: () => void,
  ) {
    // Feature test before assigning: wrtc has no such property, so assigning would fake it.
    this.#hasEvent = typeof channel.bufferedAmountLowThreshold === 'number' && typeof channel.addEventListener === 'function';
    if (this.#hasEvent) {
      channel.bufferedAmountLowThreshold = lowWaterMark;
      channel.addEventListener!('bufferedamountlow', this.#onLow);
    }
  }

  /** Bytes handed to the channel and not yet sent. */
  get amount(): number {
    return this.channel.bufferedAmount + this.#unsettled;
  }

  /** Record a `send()` of `bytes`; call right after the channel accepted it. */
  sent(bytes: number): void {
    this.#unsettled += bytes;
    if (!this.#settleScheduled) {
      this.#settleScheduled = true;
      // A macrotask later the native side has seen these bytes (or already sent them).
      this.clock.setTimeout(() => {
        this.#settleScheduled = false;
        this.#unsettled = 0;
        this.#check();
      }, 0);
    }
    if (!this.#above && this.amount > this.lowWaterMark) {
      this.#above = true;
      this.#schedulePoll();
    }
  }

  /** Stop timers and listeners (the channel is closing). */
  stop(): void {
    this.#stopped = true;
    if (this.#pollTimer !== undefined) this.clock.clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    if (this.#hasEvent) this.channel.removeEventListener?.('bufferedamountlow', this.#onLow);
  }

  #schedulePoll(): void {
    // With the event, polling is only a safety net against a missed edge; without it, the mechanism.
    if (this.#stopped || this.#pollTimer !== undefined) return;
    const every = this.#hasEvent ? Math.max(50, this.pollIntervalMs) : this.pollIntervalMs;
    this.#pollTimer = this.clock.setTimeout(() => {
      this.#pollTimer = undefined;
      this.#check();
    }, every);
  }

  #check(): void {
    if (this.#stopped || !this.#above) return;
    if (this.amount <= this.lowWaterMark) {
      this.#above = false;
      if (this.#pollTimer !== undefined) this.clock.clearTimeout(this.#pollTimer);
      this.#pollTimer = undefined;
      this.onDrain();
    } else {
      this.#schedulePoll();
    }
  }
}
