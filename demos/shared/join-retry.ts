/**
 * Joining while the relay cannot be reached, for the demos: one attempt at a time, and the
 * wait before the next one counted down, so a page says "can't reach the relay, retrying
 * in 1 s…" as soon as its first attempt fails (then 2 s, 4 s... after later ones). joinRoom's own retries (five by default)
 * kept the page at "connecting…" until they were all used up: about 4 s against a port
 * with nothing listening, and 10 s an attempt against a relay that never answers.
 */
import { joinRoom, type JoinRoomOptions, type Room } from '../../src/index.js';

/** Where a join that could not reach the relay stands, as the page should say it. */
export interface RelayWait {
  /** Attempts that failed so far (1 after the first). */
  failures: number;
  /** Whole seconds until the next attempt; 0 while that attempt is under way. */
  retryInS: number;
  /** The code the relay refused the last attempt with (`server-full`, ...); undefined when it could not be reached at all. */
  refusal?: string;
}

/** Waits between attempts: 1 s after the first failure, doubling up to 10 s. */
export const retryDelayMs = (failures: number): number => Math.min(10_000, 1000 * 2 ** (failures - 1));

/**
 * joinRoom, tried again for as long as the relay cannot be reached (or turns the
 * connection away: full, too many connections from this address), with `onWait` told
 * after each failed attempt and each second of the wait that follows. Any other failure
 * (room full, a token refused, a wrong relay URL) rejects as joinRoom's did.
 *
 * @example
 * ```ts
 * const room = await joinRetrying({ relay, room: 'notes' }, ({ retryInS }) =>
 *   (status.textContent = retryInS > 0 ? `can't reach the relay, retrying in ${retryInS} s…` : "can't reach the relay, retrying…"));
 * ```
 */
export async function joinRetrying(options: JoinRoomOptions, onWait: (wait: RelayWait) => void): Promise<Room> {
  for (let failures = 1; ; failures++) {
    try {
      // One attempt per call: a failed one comes back at once, to be said.
      return await joinRoom({ ...options, connectAttempts: 1 });
    } catch (err) {
      const { code, detail } = err as { code?: unknown; detail?: { lastRefusal?: unknown } };
      if (code !== 'relay-unreachable') throw err;
      const refusal = typeof detail?.lastRefusal === 'string' ? detail.lastRefusal : undefined;
      for (let left = Math.ceil(retryDelayMs(failures) / 1000); left > 0; left--) {
        onWait({ failures, retryInS: left, refusal });
        await new Promise((r) => setTimeout(r, 1000));
      }
      onWait({ failures, retryInS: 0, refusal });
    }
  }
}
