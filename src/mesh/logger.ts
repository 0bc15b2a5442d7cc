/**
 * Where the mesh reports dropped input and recoveries. Injected, so an app (or a test)
 * decides what is printed; never given plaintext signals or payload bytes.
 *
 * @example
 * ```ts
 * const logger: Logger = {
 *   debug: () => {},
 *   warn: (message, detail) => telemetry.push({ message, ...detail }),
 * };
 * const room = await joinRoom({ relay, room: 'demo', logger });
 * ```
 */
export interface Logger {
  debug(message: string, detail?: Record<string, unknown>): void;
  warn(message: string, detail?: Record<string, unknown>): void;
}

/**
 * Warnings to the console, debug messages nowhere: the default.
 *
 * @example
 * ```ts
 * createMesh({ ...options, logger: consoleLogger() });
 * ```
 */
export function consoleLogger(): Logger {
  return {
    debug: () => {},
    warn: (message, detail) => console.warn(`[meshparty] ${message}`, detail ?? ''),
  };
}

/** A logger that prints nothing (tests that provoke warnings on purpose). */
export function silentLogger(): Logger {
  return { debug: () => {}, warn: () => {} };
}
