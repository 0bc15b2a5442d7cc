/**
 * Files the keeper's directory holds beside its logs across restarts (fake in-memory rooms,
 * real files): copies set aside from damaged logs, name files, temp files a crash left.
 * Each must be traceable to its document and must not trouble a later start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKeeper, type Keeper } from '../../src/yjs/keeper/keeper.js';
import { LOG_MAGIC } from '../../src/yjs/keeper/log-format.js';
import { storeName } from '../../src/yjs/keeper/store-names.js';
import { FakeHub } from './fake-room.js';
import { newKeeperDir, removeKeeperDirs, seedKeeperDir } from './support/keeper-dir.js';

afterEach(removeKeeperDirs);

/** A keeper on `dir` keeping `room`, fed `text` in document `name` by a peer; closed after. */
const keepText = (dir: string, room: string, name: string, text: string) => seedKeeperDir(dir, { [room]: { [name]: text } });

/** A new keeper on `dir` keeping `room` (before any peer), and what it logged. */
async function reopen(dir: string, room: string): Promise<{ keeper: Keeper; said: string[] }> {
  const hub = new FakeHub();
  const said: string[] = [];
  const keeper = await createKeeper({ rooms: [room], dir, join: () => hub.join('keeper'), fsync: 'never', log: (m) => said.push(m) });
  return { keeper, said };
}

/** Lines a start logs about trouble with its files. */
const trouble = (said: string[]) => said.filter((m) => /cannot keep|not loaded|damaged|unreadable|removed/.test(m));

describe('keeper leftover files', () => {
  it('keeps the name of a hashed log set aside as damaged after the log, salvaged to its header alone, is removed', async () => {
    const dir = newKeeperDir();
    const roomDir = join(dir, storeName('r'));
    const longDoc = 'minutes-'.padEnd(150, 'm'); // over 100 bytes: stored hashed, its name in a .name file
    await keepText(dir, 'r', longDoc, 'hello');
    const log = join(roomDir, `${storeName(longDoc)}.ylog`);
    // Every record unreadable: salvage keeps the header alone and sets the original aside.
    writeFileSync(log, Buffer.concat([LOG_MAGIC, Buffer.alloc(40, 0xab)]));
    const damaged = readFileSync(log);
    const copies = () => readdirSync(roomDir).filter((f) => f.includes('.damaged-'));

    const first = await reopen(dir, 'r');
    expect(first.said.join('\n')).toMatch(/kept 0 intact records, the original is at /);
    await first.keeper.close();
    expect(readFileSync(log).equals(Buffer.from(LOG_MAGIC))).toBe(true);

    // The log stores nothing now: removed at this start.
    const second = await reopen(dir, 'r');
    expect(second.said).toContain('room r: removed 1 stored logs that held nothing (documents announced and never edited)');
    await second.keeper.close();
    expect(readdirSync(roomDir).some((f) => f.endsWith('.ylog'))).toBe(false);
    expect(copies()).toHaveLength(1);
    const copy = copies()[0]!;
    expect(readFileSync(join(roomDir, copy)).equals(damaged)).toBe(true);
    // Which document the copy was: `<hash>.ylog.damaged-*` has its name in `<hash>.name`
    // (without the fix: removed with the log, the copy named by a hash alone).
    expect(readFileSync(join(roomDir, copy.replace(/\.ylog\.damaged-.*$/, '.name')), 'utf8')).toBe(longDoc);

    // Later starts meet the leftovers quietly: nothing loaded, copied or said.
    const third = await reopen(dir, 'r');
    expect(trouble(third.said)).toEqual([]);
    expect([...third.keeper.docs('r').keys()]).toEqual([]);
    await third.keeper.close();
    expect(copies()).toEqual([copy]);

    // The document written again is stored under the same name file and loaded once.
    await keepText(dir, 'r', longDoc, 'again');
    const fourth = await reopen(dir, 'r');
    expect(fourth.keeper.docs('r').get(longDoc)?.getText('t').toString()).toBe('again');
    expect([...fourth.keeper.docs('r').keys()]).toEqual([longDoc]);
    expect(fourth.said.filter((m) => m.startsWith('room r: keeping'))).toHaveLength(1);
    expect(trouble(fourth.said)).toEqual([]);
    await fourth.keeper.close();
    expect(copies()).toEqual([copy]);
    expect(readFileSync(join(roomDir, `${storeName(longDoc)}.name`), 'utf8')).toBe(longDoc);
  });

  it('writes the name file of a hashed document again when it does not hold its name, so the document is loaded after a restart', async () => {
    const dir = newKeeperDir();
    const roomDir = join(dir, storeName('r'));
    const longDoc = 'agenda-'.padEnd(150, 'a');
    const nameFile = join(roomDir, `${storeName(longDoc)}.name`);
    // A name file left without its log, damaged (or edited by hand: a trailing newline).
    mkdirSync(roomDir, { recursive: true });
    writeFileSync(nameFile, `${longDoc}\n`);
    await keepText(dir, 'r', longDoc, 'hello');
    expect(readFileSync(nameFile, 'utf8')).toBe(longDoc);
    // Without the fix: the log is there, but "its name file ... does not match; not loaded".
    const { keeper, said } = await reopen(dir, 'r');
    expect(keeper.docs('r').get(longDoc)?.getText('t').toString()).toBe('hello');
    expect(trouble(said)).toEqual([]);
    await keeper.close();
  });
});
