/**
 * Backpressure of one RTCDataChannel: how many bytes wait to go out, and a `drain`
 * callback when that falls to the low-water mark after being above it.
 *
 * Why not just `channel.bufferedAmount` and `bufferedamountlow`: in Node's
 * `@roamhq/wrtc` the event never fires and `bufferedAmount` is updated asynchronously
 * (it still reads 0 right after a burst of `send()`s in the same task). So bytes sent
 * are counted here until a reading taken in a later task, and where the event is
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
 * `amount` is an upper bound, not a fresh reading: reading `bufferedAmount` from wrtc is
 * a blocking call into WebRTC's own thread (measured ~20 µs idle and several times that
 * on a loaded machine, per read), and the send path used to make two such reads per
 * message, which cost more than the sends themselves when one edit goes to 7 peers.
 * The native buffer only shrinks between our own `send()`s, so the last reading plus
 * every byte sent since is a safe bound; the channel is read again only once that bound
 * passes the low-water mark (a timer later, when the reading includes those bytes), and
 * then while it stays above.
 *
 * @example
 * ```ts
 * const p = new ChannelPressure(channel, 256 * 1024, realClock(), 2, () => pump());
 * channel.send(frame); p.sent(frame.byteLength);
 * if (p.amount > highWaterMark) return; // wait for pump() to be called
 * ```
 */
export class ChannelPressure {
  /** `bufferedAmount` at the last reading (0 before any). */
  #read = 0;
  /** Bytes sent since the last reading. */
  #sinceRead = 0;
  #above = false;
  #timer: TimerHandle | undefined;
  #stopped = false;
  readonly #hasEvent: boolean;
  readonly #onLow = () => this.#refresh();

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

  /** At least the bytes handed to the channel and not yet sent (see the class comment). */
  get amount(): number {
    return this.#read + this.#sinceRead;
  }

  /** Record a `send()` of `bytes`; call right after the channel accepted it. Never reads the channel. */
  sent(bytes: number): void {
    this.#sinceRead += bytes;
    if (!this.#above && this.amount > this.lowWaterMark) {
      this.#above = true;
      // A macrotask later the native side has seen these bytes (or already sent them).
      this.#schedule(0);
    }
  }

  /** Stop timers and listeners (the channel is closing). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#hasEvent) this.channel.removeEventListener?.('bufferedamountlow', this.#onLow);
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#refresh();
    }, ms);
  }

  /** Read the channel (only ever from a timer or its event, never in the task that sent) and report a drain. */
  #refresh(): void {
    if (this.#stopped || !this.#above) return;
    this.#read = this.channel.bufferedAmount;
    this.#sinceRead = 0;
    if (this.amount <= this.lowWaterMark) {
      this.#above = false;
      if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.onDrain();
    } else {
      // With the event, polling is only a safety net against a missed edge; without it, the mechanism.
      this.#schedule(this.#hasEvent ? Math.max(50, this.pollIntervalMs) : this.pollIntervalMs);
    }
  }
}
