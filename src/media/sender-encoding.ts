/**
 * Keeps one video RTCRtpSender's encoding at what is wanted (view-encoding.ts), with
 * RTCRtpSender.setParameters: no renegotiation, the peer notices nothing but the size.
 *
 * setParameters takes the object the same sender's getParameters() returned, changed, and
 * only until the next task (each call returns a new transactionId; an older one, or one
 * already used, is refused), with the same number of encodings. So each change reads the
 * parameters afresh and sets them in the same turn, one change in flight at a time. A
 * tile being dragged to a new size changes what is wanted many times a second: changes
 * are applied at most once every `intervalMs`, the last one always.
 */
import { type SendEncoding, sameEncoding } from './view-encoding.js';

/** What SenderEncoding needs of an RTCRtpSender. */
export type ParameterSender = Pick<RTCRtpSender, 'getParameters' | 'setParameters'>;

/** setParameters calls on one sender at most this often (ms). */
export const ENCODING_CHANGE_MS = 250;

export class SenderEncoding {
  #want: SendEncoding;
  /** What the sender was last given (or refused: then not tried again until the want changes). */
  #applied: SendEncoding;
  #busy = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastAt = Number.NEGATIVE_INFINITY;
  #closed = false;

  /**
   * `initial`: the encoding the sender was made with (its sendEncodings). `onRefused`:
   * the engine refused a change (the sender keeps its last encoding).
   */
  constructor(
    readonly sender: ParameterSender,
    initial: SendEncoding,
    readonly onRefused: (err: unknown) => void,
    readonly intervalMs = ENCODING_CHANGE_MS,
    readonly now: () => number = () => performance.now(),
  ) {
    this.#want = this.#applied = initial;
  }

  /** Want `encoding`: applied at once if nothing was applied in the last interval, else at its end. */
  set(encoding: SendEncoding): void {
    if (this.#closed) return;
    this.#want = encoding;
    this.#schedule();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    // Also reached when a change in flight at close() settles: nothing more is applied then.
    if (this.#closed || this.#busy || this.#timer !== undefined || sameEncoding(this.#want, this.#applied)) return;
    const wait = this.#lastAt + this.intervalMs - this.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#apply();
      }, wait);
    } else void this.#apply();
  }

  async #apply(): Promise<void> {
    if (this.#closed || sameEncoding(this.#want, this.#applied)) return;
    const want = this.#want;
    this.#busy = true;
    this.#lastAt = this.now();
    try {
      // Read and set in one turn: parameters kept across an await are refused.
      const parameters = this.sender.getParameters();
      const encoding = parameters.encodings?.[0];
      if (!encoding) throw new Error('the sender has no encoding to change');
      encoding.active = want.active;
      encoding.scaleResolutionDownBy = want.scaleResolutionDownBy;
      if (want.maxBitrate === undefined) delete encoding.maxBitrate;
      else encoding.maxBitrate = want.maxBitrate;
      await this.sender.setParameters(parameters);
    } catch (err) {
      if (!this.#closed) this.onRefused(err);
    } finally {
      this.#applied = want;
      this.#busy = false;
    }
    this.#schedule();
  }
}
