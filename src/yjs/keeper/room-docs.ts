/**
 * The documents a keeper holds in one room, and when each costs a slot and a file.
 *
 * A name announced on the catalog gets a Y.Doc and a provider (so the keeper syncs it and
 * hears edits) but nothing on disk and no slot of `maxDocsPerRoom`: most such names are
 * documents that stay empty, and any member of the room can announce names by the
 * thousand. Only once the document has content (an edit, a peer's state, an update Yjs
 * holds back) does it take a slot and get its log; from then on it is kept for good and
 * never dropped. Empty ones are bounded apart (see empty-docs.ts) and dropped when every
 * peer that announced them has left. A document that gets content while the room's slots
 * are all taken is refused: logged and reported with code `too-many-docs`.
 */
import * as Y from 'yjs';
import type { Room } from '../../mesh/types.js';
import { MeshpartyError } from '../../util/errors.js';
import { realClock, type Clock } from '../../util/clock.js';
import { TokenBucket } from '../../util/token-bucket.js';
import { createYjsProvider, type MeshpartyProvider } from '../provider.js';
import { docChannelName } from '../catalog.js';
import { checkUpdate, type YjsLimits } from '../protocol.js';
import { keepHeldBack } from './held-back.js';
import type { KeepRetries } from './keep-retries.js';
import { makeDirDurably } from './durable-fs.js';
import { EmptyDocs } from './empty-docs.js';
import { docLogPath, recordDocName, removeIfEmpty } from './store-names.js';
import { UpdateLog, type FsyncPolicy } from './update-log.js';

/** Marks updates that came from our own log, so they are not written back. */
const FROM_DISK = Symbol('from-disk');
/** Refused names remembered (so a name announced again is not synced and refused again), at most. */
const REFUSED_REMEMBERED = 1000;
/**
 * New names a peer may have the keeper sync: a burst of this many (a peer opening many
 * documents at once), then {@link NEW_NAMES_PER_SECOND}. Each new name costs a sync hello
 * to every peer in the room: unbounded, one announcement of 1000 junk names after another
 * would have the keeper send 1000 messages to each peer, again and again.
 */
const NEW_NAMES_BURST = 1000;
const NEW_NAMES_PER_SECOND = 10;

/**
 * What a room's documents need from the keeper.
 *
 * @example
 * ```ts
 * const docs = new RoomDocs({ room, roomName: 'notes', dir: '/data/6e6f746573', maxDocs: 1000, maxEmptyDocs: 1000, limits: {}, say: console.log, retries, stopped: () => false, refused: (err) => console.warn(err.code) });
 * ```
 */
export interface RoomDocsOptions {
  room: Room;
  roomName: string;
  /** The room's directory (`<dir>/<room as stored>`). */
  dir: string;
  /** Documents with content stored at most (`maxDocsPerRoom`). */
  maxDocs: number;
  /** Empty documents held at most (`maxEmptyDocsPerRoom`). */
  maxEmptyDocs: number;
  fsync?: FsyncPolicy;
  compactBytes?: number;
  clock?: Clock;
  limits: Partial<YjsLimits>;
  say: (message: string) => void;
  retries: KeepRetries;
  /** The keeper is closing or closed: start nothing. */
  stopped: () => boolean;
  /** A document with content was not kept (`too-many-docs`). */
  refused: (err: MeshpartyError) => void;
}

interface KeptDoc {
  name: string;
  doc: Y.Doc;
  provider: MeshpartyProvider;
  /** Stops writing updates Yjs holds back (see held-back.ts). */
  offHeldBack: () => void;
  /** Its log, once opened. */
  log?: UpdateLog;
  /** It has content (or was stored): it holds one of the room's slots and is never dropped. */
  slotted: boolean;
  /** Updates it got before its log was open (written, as the whole document, when it opens). */
  unsaved: number;
  /** Refused for want of a slot: dropped, nothing more done with it. */
  refused: boolean;
}

/**
 * One room's documents; see the module comment.
 *
 * @example
 * ```ts
 * const docs = new RoomDocs(options);
 * docs.loadStored(storedDocNames(options.dir, say));
 * catalog.on('message', ({ from, data }) => decodeAnnounce(data).forEach((n) => docs.announced(n, from)));
 * room.on('peer-left', ({ id }) => docs.peerLeft(id));
 * ```
 */
export class RoomDocs {
  readonly #docs = new Map<string, KeptDoc>();
  readonly #empty: EmptyDocs;
  readonly #refused = new Set<string>();
  /** Per announcing peer: the new names it may still have synced (see NEW_NAMES_BURST). */
  readonly #newNames = new Map<string, { bucket: TokenBucket; said: boolean }>();
  #slots = 0;
  #emptyDropped = 0;

  constructor(private readonly o: RoomDocsOptions) {
    this.#empty = new EmptyDocs(o.maxEmptyDocs);
  }

  /** Every document held, by name: stored ones and empty ones waiting for content. */
  get docs(): ReadonlyMap<string, Y.Doc> {
    return new Map([...this.#docs].map(([name, k]) => [name, k.doc]));
  }

  /** The logs of documents with content that could not be created yet (a retry is due). */
  unopened(): string[] {
    return [...this.#docs.values()].flatMap((k) => (k.slotted && !k.log && k.unsaved > 0 ? [docLogPath(this.o.dir, k.name)] : []));
  }

  /** The open logs. */
  logs(): UpdateLog[] {
    return [...this.#docs.values()].flatMap((k) => (k.log ? [k.log] : []));
  }

  /**
   * Load the documents stored in the room's directory. A log that stores nothing (left by
   * a keeper that stored names announced and never edited) is removed instead.
   */
  loadStored(names: string[]): void {
    let removed = 0;
    for (const name of names) {
      if (removeIfEmpty(this.o.dir, name)) removed++;
      else this.#try(name, () => this.#load(name));
    }
    if (removed > 0) this.o.say(`room ${this.o.roomName}: removed ${removed} stored logs that held nothing (documents announced and never edited)`);
  }

  /** `from` announced document `name` on the catalog. */
  announced(name: string, from: string): void {
    if (this.o.stopped()) return;
    const known = this.#docs.get(name);
    if (known) {
      if (!known.slotted && !known.refused) this.#empty.add(name, from);
      return;
    }
    if (this.#refused.has(name) || !this.#mayAddName(from)) return;
    let k: KeptDoc;
    try {
      k = this.#create(name, new Y.Doc());
    } catch (err) {
      return this.#cannotKeep(name, err, undefined);
    }
    // Synced at once (a peer's state in the same turn): it has its slot already, or was refused.
    if (k.slotted || k.refused) return;
    const dropped = this.#empty.add(name, from);
    dropped.forEach((n) => this.#drop(n));
    if (dropped.length > 0) this.#saidDropped(dropped.length);
  }

  /** Peer `id` left the room: drop the empty documents nobody present announced. */
  peerLeft(id: string): void {
    this.#newNames.delete(id);
    this.#empty.peerLeft(id).forEach((n) => this.#drop(n));
  }

  /** `from` may have one more new name synced (see NEW_NAMES_BURST); the first refusal per peer is logged. */
  #mayAddName(from: string): boolean {
    let entry = this.#newNames.get(from);
    if (!entry) {
      const clock = this.o.clock ?? realClock();
      entry = { bucket: new TokenBucket(NEW_NAMES_PER_SECOND, NEW_NAMES_BURST, () => clock.now()), said: false };
      this.#newNames.set(from, entry);
    }
    if (entry.bucket.take()) return true;
    if (!entry.said) {
      entry.said = true;
      this.o.say(
        `room ${this.o.roomName}: ${from} announces new documents faster than ${NEW_NAMES_PER_SECOND} a second (after ${NEW_NAMES_BURST}); ` +
          `ignoring the names over that (a peer announces its documents again to each peer that joins)`,
      );
    }
    return false;
  }

  /**
   * Stop every document; returns the logs whose final write failed, with their lost
   * updates, and those of documents with content whose log could not be opened (a full
   * disk): what they got is in no file either.
   */
  close(): Array<{ path: string; lost: number }> {
    const failed: Array<{ path: string; lost: number }> = [];
    for (const k of this.#docs.values()) {
      k.offHeldBack();
      k.provider.destroy();
      const lost = k.log ? k.log.close() : k.slotted ? k.unsaved : 0;
      if (lost > 0) failed.push({ path: k.log?.path ?? docLogPath(this.o.dir, k.name), lost });
    }
    this.#docs.clear(); // nothing is destroyed twice (a refusal's deferred destroy)
    return failed;
  }

  /** A stored document at startup (or its retry): its log read into a new doc, then served. */
  #load(name: string): void {
    const known = this.#docs.get(name);
    if (known) {
      // Announced (and maybe edited) while its log could not be opened yet.
      if (!known.slotted) this.#slot(known);
      if (!known.log) this.#open(known);
      return;
    }
    const doc = new Y.Doc();
    const { log, records } = this.#openLog(name, doc);
    let k: KeptDoc;
    try {
      k = this.#create(name, doc);
    } catch (err) {
      log.close(); // a name that cannot be served must not keep a descriptor
      doc.destroy();
      throw err;
    }
    k.log = log;
    this.#slot(k);
    this.o.say(`room ${this.o.roomName}: keeping ${JSON.stringify(name)} (${records} stored records)`);
  }

  /** Open the log of a document held in memory, and write what it got meanwhile. */
  #open(k: KeptDoc): void {
    const { log, records } = this.#openLog(k.name, k.doc);
    // The whole document, with what Yjs holds back (encodeStateAsUpdate includes it).
    if (k.unsaved > 0) log.append(Y.encodeStateAsUpdate(k.doc));
    k.log = log;
    k.unsaved = 0;
    this.o.say(`room ${this.o.roomName}: keeping ${JSON.stringify(k.name)} (${records} stored records)`);
  }

  /** Open (or create) `name`'s log and apply what it stores to `doc`. Throws what opening throws; closes it on any failure after. */
  #openLog(name: string, doc: Y.Doc): { log: UpdateLog; records: number } {
    const { dir, roomName, say } = this.o;
    makeDirDurably(dir);
    recordDocName(dir, name);
    const { log, updates } = UpdateLog.open(docLogPath(dir, name), {
      fsync: this.o.fsync,
      compactBytes: this.o.compactBytes,
      clock: this.o.clock,
      snapshot: () => Y.encodeStateAsUpdate(doc),
      log: say,
    });
    try {
      let unused = 0;
      for (const u of updates) {
        const problem = checkUpdate(u);
        if (problem) {
          unused++;
          say(`room ${roomName}, document ${JSON.stringify(name)}: skipping a stored record: ${problem}`);
          continue;
        }
        try {
          Y.applyUpdate(doc, u, FROM_DISK);
        } catch (err) {
          unused++;
          say(`room ${roomName}, document ${JSON.stringify(name)}: a stored record failed to apply: ${(err as Error).message}`);
        }
      }
      // The next compaction would drop those records for good: keep the file as it is now,
      // then rewrite the log without them, or every start would meet (and copy) them again.
      if (unused > 0) {
        say(`room ${roomName}, document ${JSON.stringify(name)}: ${unused} stored records not used; the log as stored is at ${log.keepCopy()}`);
        compactNow(log, say);
      }
    } catch (err) {
      log.close();
      throw err;
    }
    return { log, records: updates.length };
  }

  /** Serve `name` with `doc`: a provider, and every update that reaches it written once it is stored. */
  #create(name: string, doc: Y.Doc): KeptDoc {
    let provider: MeshpartyProvider;
    try {
      provider = createYjsProvider(this.o.room, doc, { name, announce: false, log: this.o.say, limits: this.o.limits });
    } catch (err) {
      doc.destroy();
      throw err;
    }
    provider.awareness.setLocalState(null); // the keeper is not a person: no presence
    const k: KeptDoc = { name, doc, provider, offHeldBack: () => {}, slotted: false, unsaved: 0, refused: false };
    this.#docs.set(name, k);
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== FROM_DISK) this.#content(k, update);
    });
    // After the provider's own listener: an update Yjs holds back fires no `update` event.
    k.offHeldBack = keepHeldBack(this.o.room.channel(docChannelName(name)), doc, provider, (u) => this.#content(k, u));
    return k;
  }

  /** `k` got an update: write it, or give it a slot and a log now that it has content. */
  #content(k: KeptDoc, update: Uint8Array): void {
    if (k.refused || this.#docs.get(k.name) !== k) return;
    if (k.log) return k.log.append(update);
    k.unsaved++; // in the document (held back ones too): written whole when the log opens
    if (k.slotted) return; // its log could not be opened yet: a retry is due
    if (this.#slots >= this.o.maxDocs) return this.#refuse(k);
    this.#slot(k);
    this.#try(k.name, () => {
      if (this.#docs.get(k.name) === k && !k.log) this.#open(k);
    });
  }

  #slot(k: KeptDoc): void {
    k.slotted = true;
    this.#slots++;
    this.#empty.delete(k.name);
  }

  /** No slot left for `k`, which has content now: say so, and stop holding it. */
  #refuse(k: KeptDoc): void {
    const { roomName, maxDocs } = this.o;
    k.refused = true;
    this.#empty.delete(k.name);
    this.#refused.add(k.name);
    if (this.#refused.size > REFUSED_REMEMBERED) this.#refused.delete(this.#refused.values().next().value!);
    const err = new MeshpartyError(
      'too-many-docs',
      `room ${roomName}: not keeping ${JSON.stringify(k.name)}: already keeping ${maxDocs} documents with content (maxDocsPerRoom)`,
      { room: roomName, doc: k.name, max: maxDocs },
    );
    this.o.say(`${err.message} [too-many-docs]`);
    // Called from within the document's update event: destroy it once that is over.
    queueMicrotask(() => this.#destroy(k));
    this.o.refused(err);
  }

  /** Drop an empty document (never one with content). */
  #drop(name: string): void {
    const k = this.#docs.get(name);
    if (k && !k.slotted) this.#destroy(k);
  }

  #destroy(k: KeptDoc): void {
    if (this.#docs.get(k.name) !== k) return;
    this.#docs.delete(k.name);
    this.#empty.delete(k.name);
    k.offHeldBack();
    k.provider.destroy();
    k.doc.destroy();
  }

  /** Dropping empty documents at the cap is logged at the first and every 1000th, not each time. */
  #saidDropped(count: number): void {
    const before = this.#emptyDropped;
    this.#emptyDropped += count;
    if (before === 0 || Math.floor(before / 1000) !== Math.floor(this.#emptyDropped / 1000)) {
      this.o.say(
        `room ${this.o.roomName}: holding ${this.o.maxEmptyDocs} empty documents (maxEmptyDocsPerRoom); ` +
          `${this.#emptyDropped} dropped so far, the oldest of the peer that announced the most (they cost no file and no slot)`,
      );
    }
  }

  /**
   * Run `attempt` (open a log, load a stored document), reporting (not throwing) what stops
   * it: one bad file must not stop the rest. What stops it may pass (a full disk, no
   * descriptors left), and the document's name may not come again while its peers stay,
   * so it is tried again on a timer (see keep-retries.ts).
   */
  #try(name: string, attempt: () => void): void {
    const key = `${this.o.roomName}\0${name}`;
    try {
      attempt();
      this.o.retries.succeeded(key);
    } catch (err) {
      // A room that closed for good (left, or a fatal error) has nobody to keep a document for.
      const over = () => this.o.stopped() || this.o.room.status === 'closed';
      const waitMs = over() ? undefined : this.o.retries.failed(key, () => (over() ? this.o.retries.succeeded(key) : this.#try(name, attempt)));
      this.#cannotKeep(name, err, waitMs);
    }
  }

  #cannotKeep(name: string, err: unknown, waitMs: number | undefined): void {
    const code = err instanceof MeshpartyError ? ` [${err.code}]` : '';
    const next = waitMs === undefined ? '' : `; trying again in ${waitMs / 1000} s`;
    this.o.say(`room ${this.o.roomName}: cannot keep ${JSON.stringify(name)}${code}: ${(err as Error).message}${next}`);
  }
}

/** Rewrite `log` as the document it holds; a failure (a full disk) is logged, tried again at the next start. */
function compactNow(log: UpdateLog, say: (message: string) => void): void {
  try {
    log.compact();
  } catch (err) {
    say(`${log.path}: could not rewrite it without the records not used (the copy aside is reused next time): ${(err as Error).message}`);
  }
}
