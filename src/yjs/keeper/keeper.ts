/**
 * The keeper: a Node peer that joins rooms, keeps every document it hears of on disk
 * (one {@link UpdateLog} per document) and serves them to peers who join when nobody
 * else is online. It is also the example of embedding the mesh in a Node app: it only
 * uses the public Room and provider APIs.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as Y from 'yjs';
import type { Room } from '../../mesh/types.js';
import { joinRoom, type JoinRoomOptions } from '../../mesh/join-room.js';
import { MeshpartyError } from '../../util/errors.js';
import { createYjsProvider, type MeshpartyProvider } from '../provider.js';
import { CATALOG_CHANNEL, decodeAnnounce } from '../catalog.js';
import { checkUpdate } from '../protocol.js';
import { UpdateLog, type FsyncPolicy } from './update-log.js';

/** Options of {@link createKeeper}. */
export interface KeeperOptions extends Partial<Omit<JoinRoomOptions, 'room'>> {
  /** Rooms to join and keep. */
  rooms?: string[];
  /** One room to join and keep (same as `rooms: [room]`). */
  room?: string;
  /** Where documents are stored (`<dir>/<room hex>/<doc hex>.ylog`). */
  dir: string;
  /**
   * How to join a room. Default: `joinRoom({ ...options, room })` with the joinRoom
   * options given here (`relay`, `password`, `wrtc`, `WebSocket`, ...). Tests pass the
   * in-memory network's `join`.
   */
  join?: (room: string) => Promise<Room> | Room;
  fsync?: FsyncPolicy;
  /** Log size that triggers compaction (default 4 MiB). */
  compactBytes?: number;
  /** Documents kept per room at most (default 1000); announcements beyond are ignored. */
  maxDocsPerRoom?: number;
  log?: (message: string) => void;
}

/** A running keeper. */
export interface Keeper {
  /** The documents kept in `room`, by name (for tests and tools). */
  docs(room: string): ReadonlyMap<string, Y.Doc>;
  /** Write every queued update to disk now. */
  flush(): void;
  /** Stop: flush and close logs, destroy providers, leave rooms. Idempotent. */
  close(): Promise<void>;
}

/** Hex doubles a name; file names are limited to 255 bytes. */
const MAX_FILE_NAME_BYTES = 120;

/** Marks updates that came from our own log, so they are not written back. */
const FROM_DISK = Symbol('from-disk');

interface KeptDoc {
  doc: Y.Doc;
  log: UpdateLog;
  provider: MeshpartyProvider;
}

/**
 * Start a keeper: join `rooms`, load every stored document, keep and serve them.
 *
 * @example
 * ```ts
 * import wrtc from '@roamhq/wrtc';
 * import { WebSocket } from 'ws';
 * const keeper = await createKeeper({ room: 'notes', dir: './data', relay: 'ws://127.0.0.1:4444', wrtc, WebSocket });
 * process.on('SIGINT', () => keeper.close());
 * ```
 */
export async function createKeeper(options: KeeperOptions): Promise<Keeper> {
  // Everything that is not a keeper option is passed on to joinRoom.
  const { rooms: roomList, room: oneRoom, dir: _dir, join: customJoin, fsync: _f, compactBytes: _c, maxDocsPerRoom: _m, log: _l, ...joinOptions } = options;
  const roomNames = [...(roomList ?? []), ...(oneRoom ? [oneRoom] : [])];
  if (roomNames.length === 0) throw new MeshpartyError('bad-argument', 'createKeeper needs `rooms` or `room`');
  const joinOne =
    customJoin ??
    ((room: string) => {
      if (!joinOptions.relay) throw new MeshpartyError('bad-argument', 'createKeeper needs `join` or the joinRoom options (`relay`, `wrtc`, `WebSocket`)');
      return joinRoom({ ...joinOptions, relay: joinOptions.relay, room });
    });
  const say = options.log ?? ((m: string) => console.log(`[meshparty keeper] ${m}`));
  const maxDocs = options.maxDocsPerRoom ?? 1000;
  const kept = new Map<string, Map<string, KeptDoc>>();
  const rooms: Room[] = [];
  const offs: Array<() => void> = [];
  let closed = false;

  const keepDoc = (roomName: string, room: Room, name: string): void => {
    const docs = kept.get(roomName)!;
    if (closed || docs.has(name)) return;
    if (Buffer.byteLength(name) > MAX_FILE_NAME_BYTES) return say(`room ${roomName}: ignoring document ${JSON.stringify(name)}: name too long to store`);
    if (docs.size >= maxDocs) return say(`room ${roomName}: ignoring document ${JSON.stringify(name)}, already keeping ${maxDocs}`);
    const roomDir = join(options.dir, hex(roomName));
    mkdirSync(roomDir, { recursive: true });
    const doc = new Y.Doc();
    const { log, updates } = UpdateLog.open(join(roomDir, `${hex(name)}.ylog`), {
      fsync: options.fsync,
      compactBytes: options.compactBytes,
      snapshot: () => Y.encodeStateAsUpdate(doc),
      log: say,
    });
    for (const u of updates) {
      const problem = checkUpdate(u);
      if (problem) {
        say(`room ${roomName}, document ${JSON.stringify(name)}: skipping a stored record: ${problem}`);
        continue;
      }
      try {
        Y.applyUpdate(doc, u, FROM_DISK);
      } catch (err) {
        say(`room ${roomName}, document ${JSON.stringify(name)}: a stored record failed to apply: ${(err as Error).message}`);
      }
    }
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== FROM_DISK) log.append(update);
    });
    const provider = createYjsProvider(room, doc, { name, announce: false, log: say });
    provider.awareness.setLocalState(null); // the keeper is not a person: no presence
    docs.set(name, { doc, log, provider });
    say(`room ${roomName}: keeping ${JSON.stringify(name)} (${updates.length} stored records)`);
  };

  try {
    for (const roomName of roomNames) {
      kept.set(roomName, new Map());
      const room = await joinOne(roomName);
      rooms.push(room);
      const catalog = room.channel(CATALOG_CHANNEL, { reliability: 'reliable' });
      offs.push(
        catalog.on('message', ({ from, data }) => {
          const names = decodeAnnounce(data);
          if (typeof names === 'string') return say(`room ${roomName}: dropped an announcement from ${from}: ${names}`);
          for (const n of names) {
            try {
              keepDoc(roomName, room, n);
            } catch (err) {
              say(`room ${roomName}: cannot keep ${JSON.stringify(n)}: ${(err as Error).message}`);
            }
          }
        }),
      );
      for (const name of storedDocNames(join(options.dir, hex(roomName)))) keepDoc(roomName, room, name);
    }
  } catch (err) {
    await Promise.allSettled(rooms.map((r) => r.leave()));
    throw err;
  }

  const all = () => [...kept.values()].flatMap((m) => [...m.values()]);
  return {
    docs: (room) => new Map([...(kept.get(room) ?? new Map<string, KeptDoc>())].map(([n, k]) => [n, k.doc])),
    flush: () => all().forEach((k) => k.log.flush()),
    async close() {
      if (closed) return;
      closed = true;
      offs.forEach((off) => off());
      for (const k of all()) {
        k.provider.destroy();
        k.log.close();
      }
      await Promise.allSettled(rooms.map((r) => r.leave()));
    },
  };
}

function storedDocNames(roomDir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(roomDir);
  } catch {
    return [];
  }
  return files.filter((f) => /^([0-9a-f]{2})+\.ylog$/.test(f)).map((f) => unhex(f.slice(0, -'.ylog'.length)));
}

/** Names become hex so any room or document name is a safe file name. */
function hex(name: string): string {
  return Buffer.from(name, 'utf8').toString('hex');
}

function unhex(h: string): string {
  return Buffer.from(h, 'hex').toString('utf8');
}
