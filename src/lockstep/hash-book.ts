/**
 * Hashes of confirmed frames from every member, compared once all have arrived. A frame
 * is judged when the local hash and the hash of every expected member are in (members
 * who leave meanwhile stop being expected); a mismatch is reported once.
 *
 * Each hash comes with a digest of the players its sender stepped that frame with. A
 * member whose digest differs from ours computed the frame in another timeline of drops
 * (a spectator that stepped past a drop frame before the drop reached it: it goes back to
 * the lobby with `past-drop`, its state thrown away). When `mayDiffer` says such a
 * difference is allowed with that member (a spectator is involved), its hash is left out
 * of the verdict (listed in `skipped`) rather than judged a desync.
 */
import type { PeerId } from '../mesh/types.js';

interface Entry {
  local?: number;
  players?: number;
  expected?: Set<PeerId>;
  got: Map<PeerId, { hash: number; players: number }>;
}

/** The outcome of judging one frame. */
export interface HashVerdict {
  frame: number;
  hashes: Record<PeerId, number>;
  equal: boolean;
  /** Members whose hash was of another set of players than ours (not compared). */
  skipped?: PeerId[];
}

export class HashBook {
  #entries = new Map<number, Entry>();

  constructor(
    private readonly self: () => PeerId,
    private readonly mayDiffer: (peer: PeerId) => boolean = () => false,
  ) {}

  #entry(frame: number): Entry {
    let e = this.#entries.get(frame);
    if (!e) this.#entries.set(frame, (e = { got: new Map() }));
    return e;
  }

  /** Our own hash of `frame` (of a state stepped with the players digested as `players`), and who else must report one. */
  local(frame: number, hash: number, expected: Iterable<PeerId>, players = 0): HashVerdict | undefined {
    const e = this.#entry(frame);
    e.local = hash;
    e.players = players;
    e.expected = new Set([...expected].filter((p) => p !== this.self()));
    return this.#judge(frame, e);
  }

  remote(from: PeerId, frame: number, hash: number, players = 0): HashVerdict | undefined {
    const e = this.#entry(frame);
    e.got.set(from, { hash, players });
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
    const skipped: PeerId[] = [];
    let equal = true;
    for (const p of e.expected) {
      const h = e.got.get(p)!;
      if (h.players !== e.players && this.mayDiffer(p)) {
        skipped.push(p);
        continue;
      }
      hashes[p] = h.hash;
      if (h.hash !== e.local) equal = false;
    }
    return skipped.length ? { frame, hashes, equal, skipped } : { frame, hashes, equal };
  }
}
