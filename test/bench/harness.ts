/**
 * The contract between one benchmark file and `npm run bench`.
 *
 * A benchmark is `test/bench/<name>.bench.ts`, run as its own process (so memory
 * figures are its own). It measures meshparty and its baseline side by side in one run
 * and calls `report()` once with its rows. Benchmarks never assert: tests do that.
 */
import { appendFileSync } from 'node:fs';

/** One measured figure, with its baseline measured in the same run where there is one. */
export interface BenchRow {
  /** Which benchmark, e.g. `relay`. */
  bench: string;
  /** The workload, e.g. `join storm, 64 rooms x 8 peers`. */
  case: string;
  /** What was measured, e.g. `messages/s`. */
  metric: string;
  unit: string;
  meshparty: number | null;
  /** The same figure for the baseline (y-webrtc, raw RTCDataChannel, ...), if any. */
  baseline?: number | null;
  baselineName?: string;
  /** meshparty / baseline; computed by report() when both are numbers. */
  ratio?: number | null;
  /** Which direction is better, so the table can say whether the ratio is good. */
  better?: 'higher' | 'lower';
  note?: string;
}

/** Record this benchmark's rows (the runner collects them; run alone, they are printed). */
export function report(rows: BenchRow[]): void {
  const withRatios = rows.map((r) => ({
    ...r,
    ratio:
      r.ratio ??
      (typeof r.meshparty === 'number' && typeof r.baseline === 'number' && r.baseline !== 0
        ? r.meshparty / r.baseline
        : null),
  }));
  const out = process.env.BENCH_OUT;
  if (out) appendFileSync(out, withRatios.map((r) => JSON.stringify(r)).join('\n') + '\n');
  else console.table(withRatios);
}
