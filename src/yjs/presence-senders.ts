/**
 * Presence bookkeeping shared by everything that applies other senders' awareness to a
 * local Awareness (the provider for peers, tab sync for other tabs): each sender speaks
 * for a set of clients, and when a sender goes, so do the clients only it spoke for.
 */
import { removeAwarenessStates, type Awareness } from 'y-protocols/awareness';

/** One client's entry in a received awareness update (only what the bookkeeping needs). */
export interface PresenceEntry {
  clientId: number;
  state: unknown;
}

/**
 * The clients a sender speaks for after `entries`: a state adds its client, a null removes it.
 *
 * @example
 * ```ts
 * if (clientsAfter(sender.clients, entries).size > limits.maxPresenceClients) drop('too many clients');
 * ```
 */
export function clientsAfter(clients: ReadonlySet<number>, entries: ReadonlyArray<PresenceEntry>): Set<number> {
  const after = new Set(clients);
  for (const { clientId, state } of entries) {
    if (state === null) after.delete(clientId);
    else after.add(clientId);
  }
  return after;
}

/**
 * A sender went: remove the presence of the clients it spoke for that no remaining sender
 * speaks for (never our own), and forget their clocks. A sender that comes back re-sends
 * its state with the clock we last saw, and y-protocols applies a state only when its clock
 * is newer (applyAwarenessUpdate: `currClock < clock`), so a kept clock would hide it until
 * its 15 s renewal. `run` runs the removal, whose listeners (the app's) may throw.
 *
 * @example
 * ```ts
 * removeSenderPresence(awareness, gone.clients, stillSpokenFor, this, (change) => quietly(log, change));
 * ```
 */
export function removeSenderPresence(
  awareness: Awareness,
  spokeFor: Iterable<number>,
  stillSpoken: ReadonlySet<number>,
  origin: unknown,
  run: (change: () => void) => void,
): void {
  const gone = [...spokeFor].filter((c) => c !== awareness.clientID && !stillSpoken.has(c));
  if (gone.length === 0) return;
  run(() => removeAwarenessStates(awareness, gone, origin));
  for (const client of gone) awareness.meta.delete(client);
}

/**
 * Run a presence change whose listeners (the app's) may throw: log it, never unwind into
 * the caller (a message handler, a teardown).
 *
 * @example
 * ```ts
 * quietly(log, () => applyAwarenessUpdate(awareness, update, origin));
 * ```
 */
export function quietly(log: (message: string) => void, change: () => void): void {
  try {
    change();
  } catch (err) {
    log(`presence listener failed: ${(err as Error).message}`);
  }
}
