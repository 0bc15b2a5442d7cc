/**
 * The real editing trace used by the Yjs tests and benchmarks: `seph-blog1.json.gz` by
 * Joseph Gentle, from the public "editing-traces" collection, CC BY 4.0 (keep this
 * attribution wherever the file is used). It lives in `../shared/data/` beside the repo.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Absolute path of the trace, found relative to the repository root. */
export const TRACE_PATH = resolve(import.meta.dirname, '../../../../shared/data/seph-blog1.json.gz');

export interface EditingTrace {
  startContent: string;
  endContent: string;
  txns: Array<{ patches: Array<[number, number, string]> }>;
}

/** Load and parse the trace. */
export function loadTrace(): EditingTrace {
  return JSON.parse(gunzipSync(readFileSync(TRACE_PATH)).toString()) as EditingTrace;
}
