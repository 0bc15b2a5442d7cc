/**
 * One player's inputs by frame, as far as this peer has received them. `next` is the
 * first frame not yet received: every frame in [start, next) is present, which is what
 * a peer acknowledges and what it reports when the player leaves.
 */
export class InputStream {
  #frames = new Map<number, Uint8Array>();
  #next: number;
  /** Once the player is leaving, later inputs are refused so the reported `next` stays true. */
  frozen = false;

  /** Inputs start at `start`; `prefill` neutral frames follow (the input delay at a start or join). */
  constructor(
    readonly start: number,
    prefill = 0,
    neutral?: Uint8Array,
  ) {
    this.#next = start;
    for (let i = 0; i < prefill; i++) this.put(start + i, neutral!);
  }

  get next(): number {
    return this.#next;
  }

  has(frame: number): boolean {
    return this.#frames.has(frame);
  }

  get(frame: number): Uint8Array | undefined {
    return this.#frames.get(frame);
  }

  /** Store an input; returns false when it is old, already known or refused. */
  put(frame: number, bytes: Uint8Array, force = false): boolean {
    if ((this.frozen && !force) || frame < this.start || this.#frames.has(frame)) return false;
    this.#frames.set(frame, bytes);
    while (this.#frames.has(this.#next)) this.#next++;
    return true;
  }

  /** Inputs for [from, to), stopping at the first gap. */
  range(from: number, to: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let f = from; f < to; f++) {
      const b = this.#frames.get(f);
      if (!b) break;
      out.push(b);
    }
    return out;
  }

  /** Forget inputs before `frame` (already stepped by everyone who could ask). */
  prune(frame: number): void {
    if (this.#frames.size < 512) return;
    for (const f of this.#frames.keys()) if (f < frame) this.#frames.delete(f);
  }
}
