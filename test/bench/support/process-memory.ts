/**
 * Memory of another process, read the same way for every server a benchmark compares,
 * so the figures are comparable whatever language or runtime the server uses.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Node flags that let {@link collectedRssBytes} trigger a full GC in a server process
 * from outside. Pass them as `execArgv` to every server a benchmark compares.
 */
export const GC_ON_SIGNAL_ARGS: readonly string[] = ['--expose-gc', '--require', resolve(import.meta.dirname, 'gc-on-signal.cjs')];

/** Resident set size of process `pid` in bytes, from `/proc/<pid>/status` (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * RSS of `pid` once it has stopped moving: samples every `everyMs` until two samples
 * in a row differ by under 1 %, or `maxMs` passes. Memory right after a burst of work
 * still includes garbage the process has not collected yet; waiting a little for it
 * settles treats every server alike.
 */
export async function settledRssBytes(pid: number, everyMs = 200, maxMs = 3000): Promise<number> {
  let last = rssBytes(pid);
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    const now = rssBytes(pid);
    if (Math.abs(now - last) < last * 0.01) return now;
    last = now;
  }
  return last;
}

/**
 * RSS of a server started with {@link GC_ON_SIGNAL_ARGS}, after asking it for a full
 * garbage collection (SIGUSR2) and letting its memory settle.
 */
export async function collectedRssBytes(pid: number): Promise<number> {
  process.kill(pid, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 300));
  return settledRssBytes(pid);
}
