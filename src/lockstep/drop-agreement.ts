/**
 * Agreeing on the frame at which a departed player is dropped (run by the coordinator,
 * the lowest-id remaining player). Every remaining member freezes the leaver's input
 * stream and reports `next` (first frame of the leaver's input it does not have) plus
 * the leaver's recent inputs. With every remaining *player's* report in, the drop frame
 * is the largest `next` reported (one of a player not computing yet, or leaving, only
 * where its inputs reach down to the others'): no player can have stepped past it (it
 * lacks the leaver's input there), and the inputs between the smallest player `next` and it are
 * handed to everyone, so every member steps the same frames with the same inputs and
 * then drops the leaver. Only players' reports are added: a spectator has no say in who
 * is gone (its connection to a player failing is its own trouble, and any room member can
 * lie), and it is never waited for (one that fell far behind, its packets lost for
 * seconds, would hold every player up). A spectator that lags gets the inputs the
 * coordinator still holds (`history`); one that stepped past the drop frame (it had
 * inputs of the leaver no player had) is admitted again. Protocol: PROTOCOL.md,
 * "Lockstep wire format".
 */
import type { PeerId } from '../mesh/types.js';

export interface LeaveReport {
  next: number;
  /** Frame of `inputs[0]`. */
  base: number;
  inputs: readonly Uint8Array[];
}

export interface DropDecision {
  atFrame: number;
  base: number;
  inputs: Uint8Array[];
}

/** The leaver's inputs the coordinator still holds itself. */
export interface DropHistory {
  get(frame: number): Uint8Array | undefined;
  /** How far below the drop frame the handed-out inputs may reach. */
  reach: number;
}

/** Reports about one leaver, collected by the coordinator. */
export class DropAgreement {
  readonly reports = new Map<PeerId, LeaveReport>();
  /** Peers that asked (a report from a non-member) and are told the decision, without a say in it. */
  readonly listeners = new Set<PeerId>();

  constructor(readonly leaver: PeerId) {}

  add(from: PeerId, report: LeaveReport): void {
    this.reports.set(from, report);
  }

  /**
   * The decision once every peer in `expected` (the remaining players) has reported;
   * undefined while some have not (or when the reported inputs leave a gap, which a
   * correct peer never causes). `history` lets the handed-out inputs reach further back,
   * for members behind every player: down to `reach` frames below the drop frame, as far
   * as the inputs are known without a gap.
   */
  decide(expected: Iterable<PeerId>, history?: DropHistory): DropDecision | undefined {
    const reports: LeaveReport[] = [];
    for (const p of expected) {
      const r = this.reports.get(p);
      if (!r) return undefined;
      reports.push(r);
    }
    if (reports.length === 0) return undefined;
    // Other reports (a joiner's, a leaving player's) raise the drop frame only where they
    // hold the leaver's inputs from at or below it on. A joiner before its snapshot holds the
    // leaver's stream from its join frame: with none of its inputs yet it reports `next` = that
    // frame, and counted, that would put the drop frame past a gap nobody can fill (every
    // player stalled below it, the joiner's snapshot waiting for a frame past the stall).
    const all = [...this.reports.values()];
    let atFrame = Math.max(...reports.map((r) => r.next));
    for (let raised = true; raised; ) {
      raised = false;
      for (const r of all) if (r.base <= atFrame && r.next > atFrame) (atFrame = r.next), (raised = true);
    }
    let base = Math.min(...reports.map((r) => r.next));
    const known = new Map<number, Uint8Array>();
    for (const r of all) r.inputs.forEach((b, i) => known.set(r.base + i, b));
    const at = (f: number) => known.get(f) ?? history?.get(f);
    for (let f = base; f < atFrame; f++) if (!at(f)) return undefined;
    const floor = history ? Math.max(0, atFrame - history.reach) : base;
    while (base > floor && at(base - 1)) base--;
    const inputs: Uint8Array[] = [];
    for (let f = base; f < atFrame; f++) inputs.push(at(f)!);
    return { atFrame, base, inputs };
  }
}
