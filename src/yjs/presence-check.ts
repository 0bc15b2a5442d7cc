/**
 * The periodic presence check of an Awareness, run by the providers that use it instead of
 * y-protocols' own interval. It does what that interval does (renew our state once it is
 * 15 s old, drop a remote state not renewed for 30 s), and one thing more: time in which
 * this page ran nothing (a background tab the browser froze, a laptop asleep) is not held
 * against the presence of peers still connected. y-protocols' interval is the first task
 * to run after such a stall, before the renewals the peers sent meanwhile are read, so it
 * dropped everyone's presence for a moment (names and cursors blinked out and came back).
 */
import { outdatedTimeout, removeAwarenessStates, type Awareness } from 'y-protocols/awareness';
import type { Clock, TimerHandle } from '../util/clock.js';

/** How often the check runs: y-protocols' period, a tenth of its 30 s timeout. */
export const PRESENCE_CHECK_MS = outdatedTimeout / 10;

/**
 * Two checks further apart than this (wall or clock time) mean our timers stalled. Twice
 * the period: a busy page runs a timer late by far less, a frozen one by the whole freeze.
 */
export const PRESENCE_STALL_MS = 2 * PRESENCE_CHECK_MS;

/** The clients whose senders are still connected (a provider's peers'). */
export type SpokenFor = () => Iterable<number>;

/** Where an Awareness keeps its shared check (one per Awareness, whatever the providers on it). */
const CHECK = Symbol('meshparty presence check');

interface Shared {
  /** Each holder's clients, with its clock. */
  sources: Map<SpokenFor, Clock>;
  /** The clock the check runs on: a holder's, moved to another's when that holder lets go. */
  clock: Clock;
  timer: TimerHandle | undefined;
  /** When the check last ran, in wall time (what y-protocols stamps states with) and clock time. */
  ranAt: number;
  ranAtClock: number;
  offDestroy: () => void;
}

type Checked = Awareness & { [CHECK]?: Shared; _checkInterval: unknown };

/**
 * Run `awareness`'s presence check on `clock` for as long as the returned function is not
 * called, taking the clients `spokenFor` returns as those of connected senders: after a
 * stall, each of them (that has a state) counts as renewed now, so it is dropped only if
 * it is not renewed within the 30 s that follow. Providers on one Awareness share one
 * check (on the first one's clock, then on another holder's once every holder of that
 * clock has let go); when the last lets go, y-protocols' plain check (on
 * the platform's timers) takes over again, unless the Awareness was destroyed meanwhile
 * or `handBack` is false (a holder about to destroy it: Awareness.destroy() would clear
 * that interval only after emitting to the app's listeners, and one that throws would
 * leave it running for good, holding the Awareness and its doc).
 *
 * @example
 * ```ts
 * const release = takeOverPresenceCheck(awareness, clock, () => peers.flatMap((p) => [...p.clients]));
 * release(); // at teardown
 * ```
 */
export function takeOverPresenceCheck(awareness: Awareness, clock: Clock, spokenFor: SpokenFor, handBack = true): () => void {
  const a = awareness as Checked;
  let shared = a[CHECK];
  if (!shared) {
    clearInterval(a._checkInterval as Parameters<typeof clearInterval>[0]);
    const onDestroy = () => {
      stop(a);
      delete a[CHECK];
    };
    awareness.on('destroy', onDestroy);
    shared = { sources: new Map(), clock, timer: undefined, ranAt: Date.now(), ranAtClock: clock.now(), offDestroy: () => awareness.off('destroy', onDestroy) };
    a[CHECK] = shared;
    schedule(a, shared);
  }
  const own = shared;
  // Wrapped: the same function passed twice is still two holders.
  const source: SpokenFor = () => spokenFor();
  own.sources.set(source, clock);
  return () => {
    if (!own.sources.delete(source) || a[CHECK] !== own) return;
    if (own.sources.size > 0) {
      // Its clock may be nobody's to drive any more (a test's, a paused one): the check
      // moves to a clock still held, counting a stall on it from now.
      const held = [...own.sources.values()];
      if (held.includes(own.clock)) return;
      stop(a);
      own.clock = held[0]!;
      own.ranAtClock = own.clock.now();
      schedule(a, own);
      return;
    }
    stop(a);
    own.offDestroy();
    delete a[CHECK];
    if (!handBack) return;
    // Like y-protocols' constructor, so that Awareness.destroy() clears it.
    a._checkInterval = setInterval(() => checkPresence(awareness, Date.now(), []), PRESENCE_CHECK_MS);
  };
}

function schedule(a: Checked, shared: Shared): void {
  shared.timer = shared.clock.setTimeout(() => {
    const now = Date.now();
    const nowClock = shared.clock.now();
    // Wall time too: a laptop asleep may stop the monotonic clock (performance.now) while
    // the wall clock, which ages the states, runs on.
    const stalled = now - shared.ranAt > PRESENCE_STALL_MS || nowClock - shared.ranAtClock > PRESENCE_STALL_MS;
    shared.ranAt = now;
    shared.ranAtClock = nowClock;
    // The next one first: a listener of the app that throws (or destroys the Awareness,
    // which stops it) must not end the checks.
    schedule(a, shared);
    checkPresence(a, now, stalled ? [...shared.sources.keys()].flatMap((s) => [...s()]) : []);
  }, PRESENCE_CHECK_MS);
}

function stop(a: Checked): void {
  const shared = a[CHECK];
  if (shared?.timer !== undefined) shared.clock.clearTimeout(shared.timer);
  if (shared) shared.timer = undefined;
}

/**
 * y-protocols' check at wall time `now`, after counting the states of `renewed` (those of
 * connected senders, after a stall) as renewed now.
 */
function checkPresence(awareness: Awareness, now: number, renewed: Iterable<number>): void {
  for (const client of renewed) {
    const meta = awareness.meta.get(client);
    if (meta && client !== awareness.clientID && awareness.states.has(client)) awareness.meta.set(client, { clock: meta.clock, lastUpdated: now });
  }
  const self = awareness.meta.get(awareness.clientID);
  const local = awareness.getLocalState();
  if (local !== null && self && outdatedTimeout / 2 <= now - self.lastUpdated) awareness.setLocalState(local);
  const outdated: number[] = [];
  for (const [client, meta] of awareness.meta) {
    if (client !== awareness.clientID && outdatedTimeout <= now - meta.lastUpdated && awareness.states.has(client)) outdated.push(client);
  }
  if (outdated.length > 0) removeAwarenessStates(awareness, outdated, 'timeout');
}
