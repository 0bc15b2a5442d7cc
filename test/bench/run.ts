/**
 * `npm run bench [-- name ...]`: runs every `test/bench/*.bench.ts` (or those whose
 * name contains one of the arguments), each in its own process, one after another so
 * they do not compete for the two cores; prints one table and writes every figure to
 * `bench-results/results.json`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchRow } from './harness.js';

const dir = resolve(import.meta.dirname);
const root = resolve(dir, '../..');
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

mkdirSync(join(root, 'bench-results'), { recursive: true });
const rowsFile = join(root, 'bench-results', 'rows.jsonl');
rmSync(rowsFile, { force: true });
const failures: string[] = [];
for (const f of files) {
  console.log(`\n== ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_OUT: rowsFile },
    timeout: 20 * 60_000,
  });
  if (r.status !== 0) failures.push(`${f} (exit ${r.status ?? r.signal})`);
}

const rows: BenchRow[] = existsSync(rowsFile)
  ? readFileSync(rowsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as BenchRow)
  : [];
const fmt = (n: number | null | undefined) =>
  typeof n !== 'number' ? '-' : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
console.log('\n' + ['bench', 'case', 'metric', 'unit', 'meshparty', 'baseline', 'ratio'].join(' | '));
for (const r of rows) {
  const base = r.baselineName ? `${fmt(r.baseline)} (${r.baselineName})` : '-';
  const ratio = typeof r.ratio === 'number' ? `${fmt(r.ratio)}x${r.better ? ` (${r.better} is better)` : ''}` : '-';
  console.log([r.bench, r.case, r.metric, r.unit, fmt(r.meshparty), base, ratio].join(' | ') + (r.note ? `  — ${r.note}` : ''));
}
const outFile = join(root, 'bench-results', 'results.json');
writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, failures }, null, 2));
console.log(`\nwrote ${rows.length} figures to ${outFile}`);
if (failures.length) {
  console.error(`benchmarks that failed: ${failures.join(', ')}`);
  process.exit(1);
}
