/**
 * The receiving side of view sizes: how large the app shows each peer's streams
 * (`media.setViewSize`), told to that peer as `view` messages so it encodes for it
 * (view-encoding.ts). A tile being dragged to a new size changes many times a second, so
 * each peer is sent its changes at most once every `intervalMs` (the last size always
 * goes); a peer whose `streams` did not say `views` (an older meshparty) is sent none.
 */
import type { PeerId } from '../mesh/types.js';
import type { MediaMessage } from './media-wire.js';
import type { ViewSize } from './view-encoding.js';

/** `view` messages to one peer at most this often (ms). */
export const VIEW_SEND_MS = 250;

export class ViewHints {
  /** What the app asked, per peer and stream id; what that peer was last sent. */
  readonly #wanted = new Map<PeerId, Map<string, ViewSize>>();
  readonly #sent = new Map<PeerId, Map<string, ViewSize>>();
  /** Peers whose `streams` said `views`. */
  readonly #accepting = new Set<PeerId>();
  readonly #timers = new Map<PeerId, ReturnType<typeof setTimeout>>();
  readonly #lastAt = new Map<PeerId, number>();

  constructor(
    readonly send: (peer: PeerId, message: MediaMessage) => void,
    readonly intervalMs = VIEW_SEND_MS,
    readonly now: () => number = () => performance.now(),
  ) {}

  /** The app shows `peer`'s stream `stream` at `size` (0: not at all). */
  set(peer: PeerId, stream: string, size: ViewSize): void {
    let wanted = this.#wanted.get(peer);
    if (!wanted) this.#wanted.set(peer, (wanted = new Map()));
    wanted.set(stream, size);
    this.#schedule(peer);
  }

  /** What `peer`'s latest `streams` said: whether it takes `view`. */
  accepts(peer: PeerId, yes: boolean): void {
    if (yes === this.#accepting.has(peer)) return;
    if (yes) this.#accepting.add(peer);
    else this.#accepting.delete(peer);
    this.#schedule(peer);
  }

  /** `peer`'s stream is no longer shown (removed): its size is forgotten, sent again once set again. */
  dropStream(peer: PeerId, stream: string): void {
    this.#wanted.get(peer)?.delete(stream);
    this.#sent.get(peer)?.delete(stream);
  }

  /** The peer's share is gone (it left, said bye or hello): start afresh. */
  forget(peer: PeerId): void {
    this.#wanted.delete(peer);
    this.#sent.delete(peer);
    this.#accepting.delete(peer);
    clearTimeout(this.#timers.get(peer));
    this.#timers.delete(peer);
    this.#lastAt.delete(peer);
  }

  close(): void {
    for (const peer of [...this.#wanted.keys(), ...this.#timers.keys()]) this.forget(peer);
  }

  #schedule(peer: PeerId): void {
    if (this.#timers.has(peer) || !this.#accepting.has(peer)) return;
    const wait = (this.#lastAt.get(peer) ?? Number.NEGATIVE_INFINITY) + this.intervalMs - this.now();
    if (wait <= 0) return this.#flush(peer);
    this.#timers.set(
      peer,
      setTimeout(() => {
        this.#timers.delete(peer);
        this.#flush(peer);
      }, wait),
    );
  }

  #flush(peer: PeerId): void {
    const wanted = this.#wanted.get(peer);
    if (!wanted || !this.#accepting.has(peer)) return;
    let sent = this.#sent.get(peer);
    if (!sent) this.#sent.set(peer, (sent = new Map()));
    let any = false;
    for (const [stream, size] of wanted) {
      const was = sent.get(stream);
      if (was && was.width === size.width && was.height === size.height) continue;
      sent.set(stream, size);
      this.send(peer, { v: 1, t: 'view', stream, width: size.width, height: size.height });
      any = true;
    }
    if (any) this.#lastAt.set(peer, this.now());
  }
}
