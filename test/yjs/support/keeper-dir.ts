/**
 * A keeper's storage directory as the tests see it: a new one in the temp dir (removed
 * after the test), a keeper of room `r` in it, or one filled by a keeper run over fake
 * in-memory rooms and read back by a new keeper, each room's documents as the text of
 * their Y.Text `t`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { createKeeper, type Keeper, type KeeperOptions } from '../../../src/yjs/keeper/keeper.js';
import { createYjsProvider } from '../../../src/yjs/provider.js';
import { waitFor } from '../../support/net.js';
import { FakeHub } from '../fake-room.js';

/** Room name -> document name -> text. */
export type KeptTexts = Record<string, Record<string, string>>;

const quiet = () => {};

const made: string[] = [];

/** A new empty directory for a keeper's storage, deleted by {@link removeKeeperDirs} (the test file's afterEach). */
export function newKeeperDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-'));
  made.push(dir);
  return dir;
}

/** Delete the directories {@link newKeeperDir} made. */
export function removeKeeperDirs(): void {
  made.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
}

/** A keeper of room `r` storing in `dir` and joining through `join`, quiet and without fsync; `options` add to or override that. */
export function keepRoomR(dir: string, join: KeeperOptions['join'], options: Partial<KeeperOptions> = {}): Promise<Keeper> {
  return createKeeper({ rooms: ['r'], dir, join, fsync: 'never', log: quiet, ...options });
}

/** Store `texts` in `dir` the way a keeper run does: a peer in each room writes them, the keeper keeps them, then closes. */
export async function seedKeeperDir(dir: string, texts: KeptTexts): Promise<void> {
  const hubs = new Map(Object.keys(texts).map((room) => [room, new FakeHub()]));
  const keeper = await createKeeper({ rooms: [...hubs.keys()], dir, join: (room) => hubs.get(room)!.join('keeper'), fsync: 'never', log: quiet });
  for (const [room, docs] of Object.entries(texts)) {
    const writer = hubs.get(room)!.join('writer');
    for (const [name, text] of Object.entries(docs)) {
      const p = createYjsProvider(writer, new Y.Doc(), { name, log: quiet });
      p.doc.getText('t').insert(0, text);
      await waitFor(() => keeper.docs(room).get(name)?.getText('t').toString() === text, `the keeper has ${room}/${name}`);
      p.destroy();
    }
    await writer.leave();
  }
  await keeper.close();
}

/** What a new keeper on `dir` loads for `rooms` (it also proves the directory's lock is free). */
export async function readKeeperDir(dir: string, rooms: string[]): Promise<KeptTexts> {
  const hub = new FakeHub();
  let n = 0;
  const keeper = await createKeeper({ rooms, dir, join: () => hub.join(`reader${n++}`), fsync: 'never', log: quiet });
  const texts = Object.fromEntries(rooms.map((room) => [room, Object.fromEntries([...keeper.docs(room)].map(([name, doc]) => [name, doc.getText('t').toString()]))]));
  await keeper.close();
  return texts;
}
