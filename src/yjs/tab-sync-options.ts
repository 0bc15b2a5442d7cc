/**
 * The options of tab sync (createTabSync, tab-sync.ts), their defaults and their checks:
 * everything a caller passes is checked here, before a channel opens.
 */
import type { Awareness } from 'y-protocols/awareness';
import type { Clock } from '../util/clock.js';
import { MeshpartyError } from '../util/errors.js';
import type { YjsLimits } from './protocol.js';
import type { TabLocks } from './tab-locks.js';
import { resolveYjsLimits } from './yjs-limits.js';

/**
 * The part of a `BroadcastChannel` that tab sync uses (the browser's, or Node's for tests).
 *
 * @example
 * ```ts
 * const channel: BroadcastChannelLike = new BroadcastChannel('meshparty-tabs:notes');
 * ```
 */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/**
 * A `BroadcastChannel` constructor.
 *
 * @example
 * ```ts
 * const make: BroadcastChannelConstructor = BroadcastChannel;
 * ```
 */
export type BroadcastChannelConstructor = new (name: string) => BroadcastChannelLike;

/**
 * Options of `createTabSync` (tab-sync.ts).
 *
 * @example
 * ```ts
 * // One name per room, password and document, like the page's IndexedDB store; the
 * // Awareness is the app's, given to the provider too.
 * const options: TabSyncOptions = { name: `notes:${passwordHash}:main`, awareness };
 * ```
 */
export interface TabSyncOptions {
  /**
   * Tabs sync only with tabs that use the same name. Make it say everything that keeps
   * documents apart: the room, the document's name and, for a room with a password,
   * something derived from the password (tabs with another password must not get the
   * text). Up to 512 characters.
   */
  name: string;
  /**
   * Presence to share with the other tabs: make it yourself and give it to the provider
   * too (one a provider made is cleared when the provider stops, e.g. its room closes).
   * A new Awareness on `doc` when omitted.
   */
  awareness?: Awareness;
  /** The BroadcastChannel constructor (default `globalThis.BroadcastChannel`). */
  BroadcastChannel?: BroadcastChannelConstructor;
  /**
   * Web Locks, through which a tab that crashed or was killed is dropped at once
   * (default `navigator.locks` where there is one; `null`: none, so such a tab stays
   * counted and its presence stays until y-protocols' 30 s timeout).
   */
  locks?: TabLocks | null;
  /**
   * Size limits for what other tabs send (the provider's defaults; one left out or
   * `undefined` keeps its default; one that is not a whole number of at least 1, or
   * Infinity for none, throws `bad-argument`).
   */
  limits?: Partial<YjsLimits>;
  /** Where dropped messages are reported (default console.warn). */
  log?: (message: string) => void;
  /**
   * How long a tab asked for what this one lacks may take to send it, in ms from the
   * first request (asking it again for more it claims does not restart the wait), before
   * another tab that has it is asked instead (default {@link PULL_TIMEOUT_MS}, 5 s: long
   * enough for a tab encoding a big document on a slow machine, short enough that a tab
   * opening beside one frozen in the background is not left without the document for
   * long). Lower it where tabs are known fast and waiting shows (each tab passed over
   * may still send its copy: more copies, never a lost edit); raise it for documents of
   * many megabytes on slow machines. 0 to {@link MAX_PULL_TIMEOUT_MS} (10 minutes);
   * anything else (NaN, Infinity, negative, larger, not a number) throws `bad-argument`.
   */
  pullTimeoutMs?: number;
  /**
   * Timers (default: the real clock), for the pull timeout (`pullTimeoutMs`) and the
   * Awareness's presence check, which tab sync shares with the providers on it: it runs
   * on the clock of whichever of them took it first, and moves to another holder's clock
   * when every holder of that one has stopped.
   */
  clock?: Clock;
}

/** Longest `name` accepted (BroadcastChannel names have no limit of their own). */
export const MAX_TAB_SYNC_NAME_LENGTH = 512;
/**
 * The default `pullTimeoutMs`: how long a tab asked for what it has (our recheck) may take
 * to send it before another tab that has it is asked. Long enough for a tab encoding a
 * big document on a slow machine; a tab frozen in the background (its Web Lock still
 * held) answers only when it thaws. Passing over a slow tab costs a second copy, never an
 * edit: its answer is still applied when it comes.
 */
export const PULL_TIMEOUT_MS = 5000;
/**
 * The longest `pullTimeoutMs` accepted: a tab that has not sent the document in 10
 * minutes is not about to, and a larger value is more likely a mistake (a timestamp, or
 * microseconds) than a wait anyone means.
 */
export const MAX_PULL_TIMEOUT_MS = 10 * 60_000;

/** What the TabSync constructor takes from checked options. */
interface CheckedTabSyncOptions {
  Channel: BroadcastChannelConstructor;
  limits: YjsLimits;
  pullTimeoutMs: number;
}

/**
 * Checks `options`: throws `bad-argument` for a bad name, `pullTimeoutMs`, limit,
 * `awareness`, `locks`, `log` or `clock`, and `broadcast-channel-unsupported` without a
 * BroadcastChannel; else what is resolved.
 *
 * @example
 * ```ts
 * const { Channel, limits, pullTimeoutMs } = checkTabSyncOptions(options);
 * ```
 */
export function checkTabSyncOptions(options: TabSyncOptions): CheckedTabSyncOptions {
  if (typeof options.name !== 'string' || !options.name || options.name.length > MAX_TAB_SYNC_NAME_LENGTH) {
    throw new MeshpartyError('bad-argument', `tab sync name must be 1..${MAX_TAB_SYNC_NAME_LENGTH} characters`);
  }
  const pullTimeoutMs: unknown = options.pullTimeoutMs === undefined ? PULL_TIMEOUT_MS : options.pullTimeoutMs;
  if (typeof pullTimeoutMs !== 'number' || !(pullTimeoutMs >= 0 && pullTimeoutMs <= MAX_PULL_TIMEOUT_MS)) {
    throw new MeshpartyError('bad-argument', `pullTimeoutMs must be a number of ms from 0 to ${MAX_PULL_TIMEOUT_MS}, got ${String(pullTimeoutMs)}`);
  }
  const limits = resolveYjsLimits(options.limits);
  // A bad one of these would throw a TypeError later: the awareness once the channel is
  // open (left open), the others in a message handler (a lock request, a log, a timer).
  const refuse = (name: keyof TabSyncOptions, what: string) => new MeshpartyError('bad-argument', `${name} must be ${what}, got ${options[name] === null ? 'null' : typeof options[name]}`);
  const has = (o: unknown, ...methods: string[]) => typeof o === 'object' && o !== null && methods.every((m) => typeof (o as Record<string, unknown>)[m] === 'function');
  // clientID and meta too: tab sync reads them as it starts, after the channel opened.
  const aw = options.awareness as { clientID?: unknown; meta?: unknown } | undefined;
  if (aw !== undefined && !(has(aw, 'on', 'off', 'getStates', 'setLocalState') && typeof aw.clientID === 'number' && has(aw.meta, 'get', 'has'))) {
    throw refuse('awareness', 'a y-protocols Awareness');
  }
  if (options.locks !== undefined && options.locks !== null && !has(options.locks, 'request')) throw refuse('locks', 'a LockManager (navigator.locks) or null');
  if (options.log !== undefined && typeof options.log !== 'function') throw refuse('log', 'a function');
  if (options.clock !== undefined && !has(options.clock, 'now', 'setTimeout', 'clearTimeout')) throw refuse('clock', 'a Clock');
  const Channel = options.BroadcastChannel ?? (globalThis as { BroadcastChannel?: BroadcastChannelConstructor }).BroadcastChannel;
  if (typeof Channel !== 'function') {
    throw new MeshpartyError('broadcast-channel-unsupported', 'no BroadcastChannel here: pass options.BroadcastChannel');
  }
  return { Channel, limits, pullTimeoutMs };
}
