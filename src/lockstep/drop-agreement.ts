/**
 * Agreeing on the frame at which a departed player is dropped (run by the coordinator,
 * the lowest-id remaining player). Every remaining member freezes the leaver's input
 * stream and reports `next` (first frame of the leaver's input it does not have) plus
 * the leaver's recent inputs. With every report in, the drop frame is the largest
 * `next`: no member can have stepped past it (it lacks the leaver's input there), and
 * the inputs between the smallest and largest `next` are handed to everyone, so every
 * member steps the same frames with the same inputs and then drops the leaver.
 * Protocol: PROTOCOL.md, "Lockstep wire format".
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

/** Reports about one leaver, collected by the coordinator. */
export class DropAgreement {
  readonly reports = new Map<PeerId, LeaveReport>();

  constructor(readonly leaver: PeerId) {}

  add(from: PeerId, report: LeaveReport): void {
    this.reports.set(from, report);
  }

  /**
   * The decision once every peer in `expected` has reported; undefined while some have
   * not (or when the reported inputs leave a gap, which a correct peer never causes).
   */
  decide(expected: Iterable<PeerId>): DropDecision | undefined {
    const reports: LeaveReport[] = [];
    for (const p of expected) {
      const r = this.reports.get(p);
      if (!r) return undefined;
      reports.push(r);
    }
    if (reports.length === 0) return undefined;
    const atFrame = Math.max(...reports.map((r) => r.next));
    const base = Math.min(...reports.map((r) => r.next));
    const known = new Map<number, Uint8Array>();
    for (const r of reports) r.inputs.forEach((b, i) => known.set(r.base + i, b));
    const inputs: Uint8Array[] = [];
    for (let f = base; f < atFrame; f++) {
      const b = known.get(f);
      if (!b) return undefined;
      inputs.push(b);
    }
    return { atFrame, base, inputs };
  }
}
