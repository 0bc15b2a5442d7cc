/**
 * Structured log lines for the relay: one JSON object per line, to stderr by default.
 * Injectable so tests capture them and operators can route them elsewhere.
 *
 * Rule for callers: never put a message payload (signal data, published content) into a
 * log entry. Signals may be end-to-end encrypted, and even when they are not, SDP holds
 * addresses that do not belong in logs.
 */

/** Severity of a log entry. */
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
 * A logger that writes each entry as one JSON line (with an ISO timestamp) to `stream`.
 *
 * @example
 * ```ts
 * const log = createJsonLogger(process.stdout);
 * log({ level: 'info', event: 'hello' });
 * ```
 */
export function createJsonLogger(stream: { write(line: string): unknown } = process.stderr): RelayLogger {
  return (entry) => {
    try {
      stream.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
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
