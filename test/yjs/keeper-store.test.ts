/**
 * The keeper's storage directory (fake in-memory rooms, real files): names of any length,
 * one bad file among good ones, the same room given twice, one keeper per directory, and
 * stored records it cannot use.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { createKeeper, type Keeper } from '../../src/yjs/keeper/keeper.js';
import { encodeLogFile, readLogFile } from '../../src/yjs/keeper/log-format.js';
import { storeName } from '../../src/yjs/keeper/store-names.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { waitFor } from '../support/net.js';
import { FakeHub } from './fake-room.js';

const quiet = () => {};
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mp-keeper-store-'));
  dirs.push(d);
  return d;
}

/** A keeper on `dir` keeping `room`, fed `text` in document `name` by a peer; closed after. */
async function keepText(dir: string, room: string, name: string, text: string): Promise<void> {
  const hub = new FakeHub();
  const keeper = await createKeeper({ rooms: [room], dir, join: () => hub.join('keeper'), fsync: 'never', log: quiet });
  const p = createYjsProvider(hub.join('alice'), new Y.Doc(), { name, log: quiet });
  p.doc.getText('t').insert(0, text);
  await waitFor(() => keeper.docs(room).get(name)?.getText('t').toString() === text, `the keeper has ${name}`);
  p.destroy();
  await keeper.close();
}

/** What a new keeper on `dir` loads for `room` (before any peer), and what it logged. */
async function reopen(dir: string, rooms: string[]): Promise<{ keeper: Keeper; said: string[] }> {
  const hub = new FakeHub();
  const said: string[] = [];
  let n = 0;
  const keeper = await createKeeper({ rooms, dir, join: () => hub.join(`keeper${n++}`), fsync: 'never', log: (m) => said.push(m) });
  return { keeper, said };
}

describe('keeper storage', () => {
  it('keeps documents and rooms with long names (past the 255-byte file name limit as hex) across a restart', async () => {
    const dir = tempDir();
    const longDoc = 'chapter-'.padEnd(200, 'x');
    const cjkDoc = '議事録'.repeat(17).slice(0, 50); // 150 UTF-8 bytes
    const longRoom = 'team-'.padEnd(200, 'r');
    await keepText(dir, 'r', longDoc, 'long name');
    await keepText(dir, 'r', cjkDoc, 'cjk name');
    await keepText(dir, longRoom, 'notes', 'long room');
    const { keeper, said } = await reopen(dir, ['r', longRoom]);
    expect(keeper.docs('r').get(longDoc)?.getText('t').toString()).toBe('long name');
    expect(keeper.docs('r').get(cjkDoc)?.getText('t').toString()).toBe('cjk name');
    expect(keeper.docs(longRoom).get('notes')?.getText('t').toString()).toBe('long room');
    expect(said.filter((m) => /cannot keep|ignoring/.test(m))).toEqual([]);
    await keeper.close();
    // Short names stay hex (readable back from the file name); long ones are hashed.
    expect(storeName('notes')).toBe(Buffer.from('notes').toString('hex'));
    expect(existsSync(join(dir, storeName(longRoom), `${storeName('notes')}.ylog`))).toBe(true);
    expect(readFileSync(join(dir, storeName('r'), `${storeName(longDoc)}.name`), 'utf8')).toBe(longDoc);
  });

  it('leaves alone a hex-named log whose name is not one it stores so (not UTF-8, or over 100 bytes), creating no other', async () => {
    const dir = tempDir();
    await keepText(dir, 'r', 'good', 'hello');
    const roomDir = join(dir, storeName('r'));
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'foreign');
    const foreign = ['ff.ylog', `${Buffer.from('x'.repeat(101)).toString('hex')}.ylog`];
    for (const file of foreign) writeFileSync(join(roomDir, file), encodeLogFile([Y.encodeStateAsUpdate(doc)]));
    const { keeper, said } = await reopen(dir, ['r']);
    expect([...keeper.docs('r').keys()]).toEqual(['good']);
    expect(said.filter((m) => m.includes('not a name this keeper stores as hex'))).toHaveLength(2);
    await keeper.close();
    // Without the check: read as the names they decode to, stored elsewhere (a new empty log each).
    expect(readdirSync(roomDir).filter((f) => f.endsWith('.ylog')).sort()).toEqual([`${storeName('good')}.ylog`, ...foreign].sort());
  });

  it('starts and keeps the other documents when one stored log cannot be read', async () => {
    const dir = tempDir();
    await keepText(dir, 'r', 'good', 'hello');
    // Something unreadable where another log is (EISDIR here; EACCES or EIO alike).
    mkdirSync(join(dir, storeName('r'), `${storeName('bad')}.ylog`));
    const { keeper, said } = await reopen(dir, ['r']);
    expect(keeper.docs('r').get('good')?.getText('t').toString()).toBe('hello');
    expect(keeper.docs('r').has('bad')).toBe(false);
    expect(said.join('\n')).toMatch(/cannot keep "bad" \[log-unreadable\]/);
    await keeper.close();
  });

  it('opens each stored log once when a room is given twice, and closes every one', async () => {
    const dir = tempDir();
    await keepText(dir, 'r', 'notes', 'hello');
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    const { keeper, said } = await reopen(dir, ['r', 'r']);
    expect(said.filter((m) => m.includes('keeping "notes"'))).toHaveLength(1);
    await keeper.close();
    expect(openFds()).toBe(before);
  });

  it('refuses two rooms that would share one directory (names differing in a lone surrogate) with bad-argument', async () => {
    const dir = tempDir();
    const rooms = ['a\uD800', 'a\uFFFD']; // UTF-8 makes both 'a' U+FFFD
    await expect(reopen(dir, rooms)).rejects.toMatchObject({ code: 'bad-argument', detail: { rooms } });
  });

  it('runs one keeper per directory: a second fails with dir-locked until the first closes', async () => {
    const dir = tempDir();
    const first = await reopen(dir, ['r']);
    await expect(reopen(dir, ['other'])).rejects.toMatchObject({ code: 'dir-locked' });
    await first.keeper.close();
    const second = await reopen(dir, ['r']);
    await second.keeper.close();
    expect(existsSync(join(dir, 'keeper.lock'))).toBe(false);
  });

  it('takes over the lock of a keeper that died without releasing it', async () => {
    const dir = tempDir();
    // A pid that is not running (pids are below 2^22 on Linux), as a crash leaves it.
    writeFileSync(join(dir, 'keeper.lock'), `${2 ** 22 + 17} 1700000000000\n`);
    const { keeper } = await reopen(dir, ['r']);
    expect(readFileSync(join(dir, 'keeper.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    await keeper.close();
  });

  it('copies a log aside before compaction could drop stored records it cannot use', async () => {
    const dir = tempDir();
    await keepText(dir, 'r', 'notes', 'hello');
    const path = join(dir, storeName('r'), `${storeName('notes')}.ylog`);
    // A record whose checksum holds but which is no Yjs update (a bug, or another tool's write).
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'hello');
    writeFileSync(path, encodeLogFile([Y.encodeStateAsUpdate(doc), new Uint8Array([0xff, 0xff, 0xff])]));
    const stored = readFileSync(path);
    const { keeper, said } = await reopen(dir, ['r']);
    expect(keeper.docs('r').get('notes')?.getText('t').toString()).toBe('hello');
    const copyLine = said.find((m) => m.includes('1 stored records not used'));
    expect(copyLine).toBeDefined();
    const copy = copyLine!.slice(copyLine!.lastIndexOf(' ') + 1);
    expect(readFileSync(copy).equals(stored)).toBe(true);
    await keeper.close();
  });

  it('sets a log with a record it cannot use aside once, however often it restarts, and keeps the document', async () => {
    const dir = tempDir();
    await keepText(dir, 'r', 'notes', 'hello');
    const roomDir = join(dir, storeName('r'));
    const path = join(roomDir, `${storeName('notes')}.ylog`);
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'hello');
    writeFileSync(path, encodeLogFile([Y.encodeStateAsUpdate(doc), new Uint8Array([0xff, 0xff, 0xff])]));
    const stored = readFileSync(path);
    for (let i = 0; i < 4; i++) {
      const { keeper } = await reopen(dir, ['r']);
      expect(keeper.docs('r').get('notes')?.getText('t').toString()).toBe('hello');
      await keeper.close();
    }
    const copies = readdirSync(roomDir).filter((f) => f.includes('.damaged-'));
    expect(copies).toHaveLength(1); // without the fix: one per start
    expect(readFileSync(join(roomDir, copies[0]!)).equals(stored)).toBe(true);
    // The log was rewritten without the record, so later starts do not meet it at all.
    expect(readLogFile(readFileSync(path)).records).toHaveLength(1);
  });
});
