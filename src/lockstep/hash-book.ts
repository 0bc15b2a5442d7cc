/**
 * Hashes of confirmed frames from every member, compared once all have arrived. A frame
 * is judged when the local hash and the hash of every expected member are in (members
 * who leave meanwhile stop being expected); a mismatch is reported once.
 */
import type { PeerId } from '../mesh/types.js';

interface Entry {
  local?: number;
  expected?: Set<PeerId>;
  got: Map<PeerId, number>;
}

/** The outcome of judging one frame. */
export interface HashVerdict {
  frame: number;
  hashes: Record<PeerId, number>;
  equal: boolean;
}

export class HashBook {
  #entries = new Map<number, Entry>();

  constructor(private readonly self: () => PeerId) {}

  #entry(frame: number): Entry {
    let e = this.#entries.get(frame);
    if (!e) this.#entries.set(frame, (e = { got: new Map() }));
    return e;
  }

  /** Our own hash of `frame`, and who else must report one. */
  local(frame: number, hash: number, expected: Iterable<PeerId>): HashVerdict | undefined {
    const e = this.#entry(frame);
    e.local = hash;
    e.expected = new Set([...expected].filter((p) => p !== this.self()));
    return this.#judge(frame, e);
  }

  remote(from: PeerId, frame: number, hash: number): HashVerdict | undefined {
    const e = this.#entry(frame);
    e.got.set(from, hash);
    return this.#judge(frame, e);
  }

  /** A member left: stop waiting for it; returns frames that can now be judged. */
  forget(peer: PeerId): HashVerdict[] {
    const out: HashVerdict[] = [];
    for (const [frame, e] of this.#entries) {
      if (!e.expected?.delete(peer)) continue;
      const v = this.#judge(frame, e);
      if (v) out.push(v);
    }
    return out;
  }

  /** Drop entries older than `frame` that can no longer complete (bounded memory). */
  prune(frame: number): void {
    for (const f of this.#entries.keys()) if (f < frame) this.#entries.delete(f);
  }

  #judge(frame: number, e: Entry): HashVerdict | undefined {
    if (e.local === undefined || !e.expected) return undefined;
    for (const p of e.expected) if (!e.got.has(p)) return undefined;
    this.#entries.delete(frame);
    const hashes: Record<PeerId, number> = { [this.self()]: e.local };
    let equal = true;
    for (const p of e.expected) {
      const h = e.got.get(p)!;
      hashes[p] = h;
      if (h !== e.local) equal = false;
    }
    return { frame, hashes, equal };
  }
}
