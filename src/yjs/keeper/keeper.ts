/**
 * The keeper: a Node peer that joins rooms, keeps every document it hears of that has
 * content on disk (one {@link UpdateLog} per document; which ones, see room-docs.ts) and
 * serves them to peers who join when nobody else is online. It is also the example of embedding the mesh in a Node app: it only
 * uses the public Room and provider APIs.
 */
import { join } from 'node:path';
import type * as Y from 'yjs';
import type { Room } from '../../mesh/types.js';
import { joinRoom, type JoinRoomOptions } from '../../mesh/join-room.js';
import { MeshpartyError } from '../../util/errors.js';
import { realClock } from '../../util/clock.js';
import { Emitter } from '../../util/emitter.js';
import { CATALOG_CHANNEL, decodeAnnounce } from '../catalog.js';
import { strikePeer } from '../cut-off.js';
import type { YjsLimits } from '../protocol.js';
import { resolveYjsLimits } from '../yjs-limits.js';
import { lockDir } from './dir-lock.js';
import { KeepRetries } from './keep-retries.js';
import { RoomDocs } from './room-docs.js';
import { startupAborted, unlessAborted } from './startup-abort.js';
import { storeName, storedDocNames } from './store-names.js';
import type { FsyncPolicy, UpdateLog } from './update-log.js';

/**
 * Options of {@link createKeeper}: `joinRoom`'s options, plus where to store and which
 * rooms to keep.
 *
 * @example
 * ```ts
 * const options: KeeperOptions = { rooms: ['notes', 'wiki'], dir: '/var/lib/meshparty', relay, wrtc, WebSocket, fsync: 'always' };
 * const keeper = await createKeeper(options);
 * ```
 */
export interface KeeperOptions extends Partial<Omit<JoinRoomOptions, 'room'>> {
  /** Rooms to join and keep. */
  rooms?: string[];
  /** One room to join and keep (same as `rooms: [room]`). */
  room?: string;
  /**
   * Where documents are stored (`<dir>/<room>/<doc>.ylog`, names as hex or hashed, see
   * PROTOCOL.md). One keeper per directory: a second one fails with `dir-locked`.
   */
  dir: string;
  /**
   * How to join a room. Default: `joinRoom({ ...options, room })` with the joinRoom
   * options given here (`relay`, `password`, `wrtc`, `WebSocket`, ...). Tests pass the
   * in-memory network's `join`. It gets `signal` too: a join that can stop early may
   * use it (the keeper does not wait for an aborted join either way).
   */
  join?: (room: string, signal: AbortSignal | undefined) => Promise<Room> | Room;
  /** 'always' (default) or 'never'; anything else is `bad-argument`. */
  fsync?: FsyncPolicy;
  /** Log size that triggers compaction (default 4 MiB); a whole number >= 1, else `bad-argument`. */
  compactBytes?: number;
  /**
   * Documents with content stored per room at most (default 1000). A document takes a slot
   * (and a file) only once it has content: a name announced and never edited costs none.
   * One that gets content while every slot is taken is refused: logged, and reported as a
   * `refused` event with code `too-many-docs`. Stored documents are never dropped.
   */
  maxDocsPerRoom?: number;
  /**
   * Announced documents still empty held per room at most (default 1000), in memory only
   * (synced in case a peer has or adds content). At the cap the oldest name of the peer
   * that announced the most is dropped, so a peer announcing names by the thousand churns
   * its own; an empty one is also dropped once every peer that announced it has left.
   * A dropped name is synced again only when a peer announces it again (each provider
   * does to each peer that joins): content it gets meanwhile (typed into, or a peer's
   * state still on its way at the drop) is not stored until then.
   */
  maxEmptyDocsPerRoom?: number;
  /**
   * Size limits for what peers send (the provider's `limits`). `maxUpdateBytes` defaults
   * to `maxMessageBytes` when that is given (a room that carries bigger messages has
   * bigger documents), else to the provider's 64 MiB; one given as `undefined` counts as
   * not given. A peer whose update is over it is struck as a bad peer, and its document
   * is not kept. Checked at startup: a limit that is not a whole number >= 1 (or
   * Infinity) is `bad-argument`.
   */
  limits?: Partial<YjsLimits>;
  log?: (message: string) => void;
  /**
   * Aborting it stops a keeper that is still starting: createKeeper rejects at once with
   * `MeshpartyError('aborted')` (`detail.joined`: the rooms joined by then), after leaving
   * those rooms, flushing and closing every log it opened and releasing the directory's
   * lock. A join still in progress is given the signal (the default join passes it to
   * joinRoom, which stops trying the relay); a custom join that ignores it is abandoned,
   * and a room it joins later is left at once (a failure to leave it is logged). No
   * further room's join is started once it has aborted. Watched only until createKeeper
   * resolves; a running keeper is stopped with `close()`.
   */
  signal?: AbortSignal;
}

/**
 * A running keeper.
 *
 * @example
 * ```ts
 * const keeper: Keeper = await createKeeper({ room: 'notes', dir: './data', relay, wrtc, WebSocket });
 * console.log([...keeper.docs('notes').keys()]); // the documents it keeps
 * process.once('SIGTERM', () => void keeper.close()); // flushes every log first
 * ```
 */
export interface Keeper {
  /**
   * The documents held in `room`, by name (for tests and tools): the stored ones, and the
   * ones announced but still empty (nothing stored until they have content).
   */
  docs(room: string): ReadonlyMap<string, Y.Doc>;
  /**
   * Subscribe to `refused`: a document with content was not kept because its room holds
   * `maxDocsPerRoom` documents already (a `MeshpartyError` with code `too-many-docs`,
   * `detail`: `room`, `doc`, `max`; it is logged too). Returns the unsubscribe.
   *
   * @example
   * ```ts
   * const off = keeper.on('refused', (err) => alert(`${err.detail?.room}: ${err.message}`));
   * ```
   */
  on<K extends keyof KeeperEvents>(event: K, listener: (value: KeeperEvents[K]) => void): () => void;
  /**
   * Write every queued update to disk now. Every log is tried, even after one fails;
   * then throws `log-write-failed` if any could not be written (`detail.paths`: those
   * logs, and those of documents with content whose log could not be created yet; their
   * updates stay queued, or in memory, and are written again later).
   */
  flush(): void;
  /**
   * Stop: flush and close logs, destroy providers, leave rooms (each drains what is still
   * queued to its peers, up to its `farewellDrainMs`), then release the directory's lock.
   * Idempotent: a later call returns the first's promise, which settles only once all
   * that is done, so a caller may exit when its own call settles. Everything is
   * stopped even when a log's final write fails (a full disk); then it rejects with
   * `log-write-failed` (`detail.paths`, `detail.lost`: how many updates were not stored),
   * so a supervisor hears of it (`meshparty keeper` exits 1).
   */
  close(): Promise<void>;
}

/**
 * Events of a {@link Keeper}.
 *
 * @example
 * ```ts
 * keeper.on('refused', (err: KeeperEvents['refused']) => console.warn(err.code, err.detail?.doc));
 * ```
 */
export interface KeeperEvents {
  /** A document with content not kept: its room is full (`too-many-docs`). */
  refused: MeshpartyError;
}

/**
 * Start a keeper: join `rooms`, load every stored document, keep and serve them.
 * Startup can be aborted through `signal` (see {@link KeeperOptions.signal}). Rejects
 * with a MeshpartyError: `bad-argument` (no `rooms` or `room`; neither `join` nor
 * `relay`; two room names that would be stored in one directory; a limit, `limits`',
 * `maxMessageBytes` or `compactBytes` among them, that is not a whole number >= 1; an
 * `fsync` other than 'always' or 'never'), `dir-locked` (a running keeper holds `dir`), `store-unreadable` (`dir` cannot
 * be locked, or a room's directory listed), `aborted`, or what joining a room rejects
 * with (see `joinRoom`); whatever it had joined is left and the lock released. A document
 * that cannot be kept (`log-unreadable`, `log-version`, ...) is logged, not a rejection.
 *
 * @example
 * ```ts
 * import wrtc from '@roamhq/wrtc';
 * import { WebSocket } from 'ws';
 * const keeper = await createKeeper({ room: 'notes', dir: './data', relay: 'ws://127.0.0.1:4444', wrtc, WebSocket });
 * process.on('SIGINT', () => keeper.close());
 *
 * // Give up if the rooms are not joined within 5 s (a relay that does not answer):
 * try {
 *   const keeper = await createKeeper({ room: 'notes', dir: './data', relay, wrtc, WebSocket, signal: AbortSignal.timeout(5000) });
 * } catch (err) {
 *   if (err instanceof MeshpartyError && err.code === 'aborted') console.log('relay did not let us in; nothing left open');
 * }
 * ```
 */
export async function createKeeper(options: KeeperOptions): Promise<Keeper> {
  // Everything that is not a keeper option is passed on to joinRoom.
  const { rooms: roomList, room: oneRoom, dir: _dir, join: customJoin, fsync: _f, compactBytes: _c, maxDocsPerRoom: _m, maxEmptyDocsPerRoom: _me, limits: _li, log: _l, signal, ...joinOptions } = options;
  const roomNames = [...new Set([...(roomList ?? []), ...(oneRoom ? [oneRoom] : [])])];
  if (roomNames.length === 0) throw new MeshpartyError('bad-argument', 'createKeeper needs `rooms` or `room`');
  sameStoreName(roomNames);
  const joinOne =
    customJoin ??
    ((room: string, joinSignal: AbortSignal | undefined) => {
      if (!joinOptions.relay) throw new MeshpartyError('bad-argument', 'createKeeper needs `join` or the joinRoom options (`relay`, `wrtc`, `WebSocket`)');
      return joinRoom({ ...joinOptions, relay: joinOptions.relay, room, signal: joinSignal });
    });
  const say = options.log ?? ((m: string) => console.log(`[meshparty keeper] ${m}`));
  const maxDocs = wholeAtLeastOne(options.maxDocsPerRoom ?? 1000, 'maxDocsPerRoom');
  const maxEmptyDocs = wholeAtLeastOne(options.maxEmptyDocsPerRoom ?? 1000, 'maxEmptyDocsPerRoom');
  const events = new Emitter<KeeperEvents>((err) => say(`a 'refused' listener threw: ${String(err)}`));
  const limits = keeperLimits(options);
  // A typo here would not fail later: an unknown policy fsynced nothing, and a threshold
  // that is not a number (NaN, '4MB') never compacted, the logs growing without end.
  if (options.fsync !== undefined && options.fsync !== 'always' && options.fsync !== 'never') {
    throw new MeshpartyError('bad-argument', `createKeeper: fsync must be 'always' or 'never', not ${JSON.stringify(options.fsync)}`);
  }
  if (options.compactBytes !== undefined) wholeAtLeastOne(options.compactBytes, 'compactBytes');
  const kept = new Map<string, RoomDocs>();
  const rooms: Room[] = [];
  const offs: Array<() => void> = [];
  const retries = new KeepRetries(options.clock ?? realClock());
  let closed = false;
  let closing: Promise<void> | undefined;

  const aborted = () => startupAborted(signal!, roomNames.slice(0, rooms.length), roomNames.length);
  if (signal?.aborted) throw aborted(); // before the lock: nothing to undo
  const release = lockDir(options.dir, {
    onLost: (holder) => say(`${options.dir}/keeper.lock was taken over by another keeper (${holder}), which judged this one gone: two keepers may now write this directory; stop one`),
    onMissing: (problem) =>
      say(
        problem
          ? `${options.dir}/keeper.lock is gone and cannot be written again (${problem.message}): was the directory removed or unmounted? What this keeper stores now may be lost; stop it and check the directory`
          : `${options.dir}/keeper.lock was deleted while this keeper runs; written again (delete it only when no keeper runs)`,
      ),
  });
  /**
   * Leave a room an abandoned join produced after the abort. Nobody awaits this, so a
   * leave that throws or rejects (a custom join's Room) is logged here: an unhandled
   * rejection would end the embedding Node process.
   */
  const leaveLate = (roomName: string, late: Room): void => {
    Promise.resolve()
      .then(() => late.leave())
      .catch((err: unknown) => say(`room ${roomName}: leaving it, joined after the startup was aborted, failed: ${String(err)}`));
  };
  const allLogs = (): UpdateLog[] => [...kept.values()].flatMap((r) => r.logs());
  /** Stop every document; returns the logs whose final write failed, with their lost updates. */
  const closeDocs = (): Array<{ path: string; lost: number }> => [...kept.values()].flatMap((r) => r.close());
  try {
    for (const roomName of roomNames) {
      // Aborted while the previous room's documents loaded: start no further join (a
      // custom join may ignore the signal and join a room only for us to leave it).
      if (signal?.aborted) throw aborted();
      // A promise either way: a join may also return its room, or throw, at once.
      const joining = Promise.resolve(roomName).then((name) => joinOne(name, signal));
      const room = await unlessAborted(joining, signal, aborted, (late) => leaveLate(roomName, late));
      rooms.push(room);
      const roomDir = join(options.dir, storeName(roomName));
      const docs = new RoomDocs({
        room,
        roomName,
        dir: roomDir,
        maxDocs,
        maxEmptyDocs,
        fsync: options.fsync,
        compactBytes: options.compactBytes,
        clock: options.clock,
        limits,
        say,
        retries,
        stopped: () => closed,
        refused: (err) => events.emit('refused', err),
      });
      kept.set(roomName, docs);
      const catalog = room.channel(CATALOG_CHANNEL, { reliability: 'reliable' });
      let lastError: MeshpartyError | undefined;
      offs.push(
        // A room ends for good on a fatal error (the relay refuses our rejoin after it
        // restarted: full, a token expired) and is not joined again: without a word the
        // keeper ran on, keeping and serving nothing of it.
        room.on('error', (err) => (lastError = err)),
        room.on('status', (status) => {
          if (status !== 'closed' || closed) return;
          const why = lastError ? ` (${lastError.code}: ${lastError.message})` : '';
          say(`room ${roomName} closed for good${why}: its documents are no longer served nor kept from peers; restart the keeper to rejoin it`);
        }),
        catalog.on('message', ({ from, data }) => {
          const names = decodeAnnounce(data);
          if (typeof names === 'string') {
            // Counted against the peer, as the provider does for its channel: one sending
            // garbage on and on is cut off, not logged by the line until the disk is full.
            strikePeer(room, from, `malformed document announcement: ${names}`);
            return say(`room ${roomName}: dropped an announcement from ${from}: ${names}`);
          }
          for (const n of names) docs.announced(n, from);
        }),
        room.on('peer-left', ({ id }) => docs.peerLeft(id)),
      );
      docs.loadStored(storedDocNames(roomDir, say));
    }
    // Aborted after the last join settled (while its documents loaded): the caller has
    // asked to stop, so it gets no keeper.
    if (signal?.aborted) throw aborted();
  } catch (err) {
    closed = true;
    retries.clear();
    offs.forEach((off) => off());
    closeDocs();
    await Promise.allSettled(rooms.map((r) => r.leave()));
    release();
    throw err;
  }

  /** Stop everything (see Keeper.close); run once, its promise shared by every close(). */
  const stop = async (): Promise<void> => {
    closed = true;
    retries.clear();
    offs.forEach((off) => off());
    const failed = closeDocs();
    await Promise.allSettled(rooms.map((r) => r.leave()));
    release();
    // Everything is stopped either way; the caller must still hear that edits were lost.
    if (failed.length > 0) {
      const lost = failed.reduce((sum, f) => sum + f.lost, 0);
      throw new MeshpartyError('log-write-failed', `${lost} updates could not be written before closing (${failed.map((f) => f.path).join(', ')})`, {
        paths: failed.map((f) => f.path),
        lost,
      });
    }
  };

  return {
    docs: (room) => kept.get(room)?.docs ?? new Map<string, Y.Doc>(),
    on: (event, listener) => events.on(event, listener),
    flush: () => flushAll(allLogs(), [...kept.values()].flatMap((r) => r.unopened())),
    close() {
      // One stop for every caller: a second close() (a signal handler beside the app's own
      // shutdown) settles with the first, once the rooms are left (their queues drained,
      // up to farewellDrainMs) and the lock released, not at once for an exit to cut short.
      closing ??= stop();
      return closing;
    },
  };
}

/**
 * Flush every log, going on past one that fails (one full disk or bad file must not keep
 * the other documents' edits in memory), then throw once for all that failed.
 */
function flushAll(logs: UpdateLog[], unopened: string[]): void {
  // A document with content whose log could not be created yet (a full disk) has nothing
  // written either: its log is tried again on a timer, and flush() must not say all is on disk.
  const failed = unopened.map((path) => ({ path, message: `${path}: its log could not be created yet (the document is kept in memory, will retry)` }));
  for (const log of logs) {
    try {
      log.flush();
    } catch (err) {
      failed.push({ path: log.path, message: (err as Error).message });
    }
  }
  if (failed.length === 0) return;
  const what = failed.length === 1 ? failed[0]!.message : `${failed.length} logs could not be written (their updates are kept, will retry): ${failed.map((f) => f.message).join('; ')}`;
  throw new MeshpartyError('log-write-failed', what, { paths: failed.map((f) => f.path) });
}

/**
 * Throw `bad-argument` if two rooms would share one directory: names that differ only in
 * a lone surrogate (UTF-16 that is no text), which UTF-8 turns into the same U+FFFD. Two
 * rooms' keepers would then append to the same logs at once, interleaving their records.
 */
function sameStoreName(roomNames: string[]): void {
  const seen = new Map<string, string>();
  for (const room of roomNames) {
    const other = seen.get(storeName(room));
    if (other !== undefined) throw new MeshpartyError('bad-argument', `createKeeper: rooms ${JSON.stringify(other)} and ${JSON.stringify(room)} would be stored in one directory (a lone surrogate in a name)`, { rooms: [other, room] });
    seen.set(storeName(room), room);
  }
}

/**
 * The providers' limits, checked here: each document's provider would refuse a bad one
 * (`bad-argument`), so every document would fail to be kept, retried and logged, while
 * the keeper ran on keeping nothing. `maxUpdateBytes` follows `maxMessageBytes` unless it
 * is given; one given as `undefined` (a setting unset in a configuration) is not given.
 */
function keeperLimits(options: KeeperOptions): YjsLimits {
  const limits = resolveYjsLimits(options.limits);
  if (options.limits?.maxUpdateBytes === undefined && options.maxMessageBytes !== undefined) {
    limits.maxUpdateBytes = wholeAtLeastOne(options.maxMessageBytes, 'maxMessageBytes');
  }
  return limits;
}

/** `value` if it is a whole number >= 1, else `bad-argument` naming `option`. */
function wholeAtLeastOne(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 1) throw new MeshpartyError('bad-argument', `createKeeper: ${option} must be a whole number >= 1, not ${String(value)}`);
  return value;
}
