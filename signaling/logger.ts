/**
 * Structured log lines for the relay: one JSON object per line, to stderr by default.
 * Injectable so tests capture them and operators can route them elsewhere.
 *
 * Rule for callers: never put a message payload (signal data, published content) into a
 * log entry. Signals may be end-to-end encrypted, and even when they are not, SDP holds
 * addresses that do not belong in logs.
 */
import { keepRunningWhenOutputCloses, type ErrorEmitter } from '../src/util/closed-output.js';

/**
 * Severity of a log entry.
 *
 * @example
 * ```ts
 * const onlyProblems = (level: LogLevel) => level !== 'info';
 * const log: RelayLogger = (entry) => onlyProblems(entry.level) && alerts.push(entry);
 * ```
 */
export type LogLevel = 'info' | 'warn' | 'error';

/**
 * One structured log entry, before it is serialised.
 *
 * @example
 * ```ts
 * const entry: LogEntry = { level: 'warn', event: 'refusals', counts: { 'bad-json': 3 } };
 * ```
 */
export interface LogEntry {
  level: LogLevel;
  /** A stable event name such as `start`, `connection-open`, `refusals`. */
  event: string;
  [field: string]: unknown;
}

/**
 * Where the relay writes its log entries.
 *
 * @example
 * ```ts
 * const lines: LogEntry[] = [];
 * const server = await createSignalingServer({ port: 0, logger: (e) => lines.push(e) });
 * ```
 */
export type RelayLogger = (entry: LogEntry) => void;

/**
 * Where {@link createJsonLogger} writes: any object with `write`. Node streams also give
 * `on` (so a failed write's asynchronous `error` can be heard), `writableLength` (bytes not
 * yet taken by the other end) and `writable` (false once the stream failed).
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const stream: LogStream = { write: (line) => lines.push(line) }; // e.g. to assert on in a test
 * const log = createJsonLogger(stream);
 * ```
 */
export interface LogStream {
  write(line: string): unknown;
  on?(event: 'error', listener: (err: Error) => void): unknown;
  listeners?(event: 'error'): unknown[];
  writableLength?: number;
  writable?: boolean;
}

/**
 * Log bytes that may wait for a log reader that does not keep up (a stalled collector, a
 * paused pipe). Writes to a pipe do not block: without a cap every line would wait in
 * memory, and a flood of connections would grow the relay by megabytes a second.
 */
export const MAX_PENDING_LOG_BYTES = 1024 * 1024;

/**
 * A logger that writes each entry as one JSON line (with an ISO timestamp) to `stream`.
 * It never throws and never takes the process down: a stream that failed is no longer
 * written, and while more than `maxPendingBytes` wait unwritten, lines are dropped and
 * counted (one `log-lines-dropped` line says how many once the reader catches up).
 *
 * @example
 * ```ts
 * const log = createJsonLogger(process.stdout);
 * log({ level: 'info', event: 'hello' });
 * ```
 */
export function createJsonLogger(stream: LogStream = process.stderr, maxPendingBytes = MAX_PENDING_LOG_BYTES): RelayLogger {
  // A pipe whose reader went away fails with EPIPE as an `error` event after `write`
  // returned; unheard, it ends the relay. The stream is unwritable afterwards, which is all
  // the logger needs to know.
  if (stream.on && stream.listeners) keepRunningWhenOutputCloses([stream as ErrorEmitter]);
  let dropped = 0;
  const writeLine = (entry: LogEntry): void => {
    stream.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
  };
  return (entry) => {
    try {
      if (stream.writable === false) return;
      if ((stream.writableLength ?? 0) > maxPendingBytes) {
        dropped++;
        return;
      }
      if (dropped > 0) {
        writeLine({ level: 'warn', event: 'log-lines-dropped', count: dropped });
        dropped = 0;
      }
      writeLine(entry);
    } catch {
      // A broken log stream must never take the relay down.
    }
  };
}

/**
 * A logger that drops everything (benchmarks, quiet tests).
 *
 * @example
 * ```ts
 * await createSignalingServer({ port: 0, logger: silentLogger });
 * ```
 */
export const silentLogger: RelayLogger = () => {};
