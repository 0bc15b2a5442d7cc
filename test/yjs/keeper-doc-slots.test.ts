/**
 * Which announced documents cost the keeper a slot and a file: only those with content.
 * Names announced by the thousand (a buggy app, or a member on purpose) do not stop a
 * real document from being kept, stored documents are never dropped, and a document
 * refused for want of a slot is said so, with code `too-many-docs`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Y from 'yjs';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { CATALOG_CHANNEL, encodeAnnounce } from '../../src/yjs/catalog.js';
import { LOG_MAGIC } from '../../src/yjs/keeper/log-format.js';
import { docLogPath, storeName } from '../../src/yjs/keeper/store-names.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import type { Room } from '../../src/mesh/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { waitFor } from '../support/net.js';
import { FakeHub } from './fake-room.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { keepRoomR, newKeeperDir, readKeeperDir, removeKeeperDirs, seedKeeperDir } from './support/keeper-dir.js';

const quiet = () => {};
afterEach(removeKeeperDirs);

/** The logs in room r's directory of `dir`. */
const logsIn = (dir: string) => readdirSync(join(dir, storeName('r'))).filter((f) => f.endsWith('.ylog'));

/** A provider of `name` for `peer`, with `text` typed into it (none: an empty document). */
function open(peer: Room, name: string, text?: string) {
  const p = createYjsProvider(peer, new Y.Doc(), { name, log: quiet });
  if (text !== undefined) p.doc.getText('t').insert(0, text);
  return p;
}

const junk = (from: number, count: number) => Array.from({ length: count }, (_, i) => `junk-${from + i}`);

describe('keeper: a document costs a slot and a file only once it has content', () => {
  it('a peer announcing 1500 junk names cannot stop a real document from being kept, nor drop a stored one', async () => {
    const dir = newKeeperDir();
    await seedKeeperDir(dir, { r: { old: 'stored before' } });
    const hub = new FakeHub();
    const said: string[] = [];
    const keeper = await keepRoomR(dir, () => hub.join('keeper'), { log: (m) => said.push(m) });
    const good = hub.join('good');
    const later = open(good, 'later'); // empty for now: typed into after the flood
    await waitFor(() => keeper.docs('r').has('later'), 'the keeper syncs later');
    const evil = hub.join('evil');
    await evil.channel(CATALOG_CHANNEL).send('keeper', encodeAnnounce(junk(0, 1000)));
    await evil.channel(CATALOG_CHANNEL).send('keeper', encodeAnnounce(junk(1000, 500)));
    const real = open(good, 'real', 'real content');
    later.doc.getText('t').insert(0, 'typed later');
    await waitFor(() => keeper.docs('r').get('real')?.getText('t').toString() === 'real content', 'the keeper has real');
    await waitFor(() => keeper.docs('r').get('later')?.getText('t').toString() === 'typed later', 'the keeper has later');
    await new Promise((resolve) => setImmediate(resolve)); // logs write once per event-loop turn
    expect(logsIn(dir).sort()).toEqual(['later', 'old', 'real'].map((n) => `${storeName(n)}.ylog`).sort());
    expect(keeper.docs('r').size).toBeLessThanOrEqual(1000 + 3); // empty ones held are capped too
    expect(said.filter((m) => m.includes('too-many-docs'))).toEqual([]);
    expect(said.filter((m) => m.includes('empty documents (maxEmptyDocsPerRoom)'))).toHaveLength(1); // said once, not per name
    real.destroy();
    later.destroy();
    await keeper.close();
    expect(await readKeeperDir(dir, ['r'])).toEqual({ r: { old: 'stored before', real: 'real content', later: 'typed later' } });
  }, 60_000);

  it('over the in-memory mesh too: 1000 junk names, then a real document is kept and stored', async () => {
    const dir = newKeeperDir();
    const net = createMemoryNetwork({ mesh: { logger: silentLogger() } });
    const keeper = await keepRoomR(dir, () => net.join('r', { peerId: 'keeper' }));
    const evil = net.join('r', { peerId: 'evil' });
    const good = net.join('r', { peerId: 'good' });
    await waitFor(() => evil.peers.has('keeper') && good.peers.has('keeper'), 'both connected to the keeper');
    await evil.channel(CATALOG_CHANNEL).send('keeper', encodeAnnounce(junk(0, 1000)));
    await waitFor(() => keeper.docs('r').size === 1000, 'the junk names are synced');
    const real = open(good, 'real', 'real content');
    await waitFor(() => keeper.docs('r').get('real')?.getText('t').toString() === 'real content', 'the keeper has real');
    await waitFor(() => logsIn(dir).length === 1, 'real is stored');
    expect(logsIn(dir)).toEqual([`${storeName('real')}.ylog`]);
    real.destroy();
    await keeper.close();
    await Promise.all([evil.leave(), good.leave()]);
  }, 60_000);

  it('refuses a document with content once maxDocsPerRoom are stored: logged and a refused event (too-many-docs), once per name', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const said: string[] = [];
    const keeper = await keepRoomR(dir, () => hub.join('keeper'), { maxDocsPerRoom: 2, log: (m) => said.push(m) });
    const refused: MeshpartyError[] = [];
    const off = keeper.on('refused', (err) => refused.push(err));
    const alice = hub.join('alice');
    const providers = [open(alice, 'a', 'one'), open(alice, 'b', 'two'), open(alice, 'empty')];
    await waitFor(() => keeper.docs('r').get('b')?.getText('t').toString() === 'two' && keeper.docs('r').get('a')?.getText('t').length === 3, 'a and b kept');
    providers.push(open(alice, 'c', 'three'));
    await waitFor(() => refused.length === 1, 'c refused');
    expect(refused[0]).toMatchObject({ code: 'too-many-docs', detail: { room: 'r', doc: 'c', max: 2 } });
    expect(said).toContain('room r: not keeping "c": already keeping 2 documents with content (maxDocsPerRoom) [too-many-docs]');
    await waitFor(() => !keeper.docs('r').has('c'), 'c no longer held');
    // The empty one took no slot while it was empty; with content it needs one, and none is left.
    providers[2]!.doc.getText('t').insert(0, 'now');
    await waitFor(() => refused.length === 2, 'empty refused once it has content');
    // Announced again (a peer joins, and every provider tells it): not synced and refused again.
    await alice.channel(CATALOG_CHANNEL).send('keeper', encodeAnnounce(['c']));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(refused).toHaveLength(2);
    off();
    providers.forEach((p) => p.destroy());
    await keeper.close();
    expect(await readKeeperDir(dir, ['r'])).toEqual({ r: { a: 'one', b: 'two' } });
  });

  it('stores no file for a document announced and never edited, and forgets it once its announcers leave', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const keeper = await keepRoomR(dir, () => hub.join('keeper'));
    const alice = hub.join('alice');
    const p = open(alice, 'blank');
    await waitFor(() => keeper.docs('r').has('blank'), 'the keeper syncs blank');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(existsSync(docLogPath(join(dir, storeName('r')), 'blank'))).toBe(false);
    p.destroy();
    await alice.leave();
    expect(keeper.docs('r').has('blank')).toBe(false);
    await keeper.close();
  });

  it('removes the header-only logs an older keeper stored for names never edited, keeping the others', async () => {
    const dir = newKeeperDir();
    await seedKeeperDir(dir, { r: { kept: 'text' } });
    const roomDir = join(dir, storeName('r'));
    mkdirSync(roomDir, { recursive: true });
    for (const name of junk(0, 5)) writeFileSync(docLogPath(roomDir, name), LOG_MAGIC);
    const said: string[] = [];
    const keeper = await keepRoomR(dir, () => new FakeHub().join('keeper'), { log: (m) => said.push(m) });
    expect([...keeper.docs('r').keys()]).toEqual(['kept']);
    expect(logsIn(dir)).toEqual([`${storeName('kept')}.ylog`]);
    expect(said).toContain('room r: removed 5 stored logs that held nothing (documents announced and never edited)');
    await keeper.close();
  });

  it('syncs at most 1000 new names a peer announces at once, then 10 a second (each costs a hello to every peer)', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const clock = new ManualClock();
    const said: string[] = [];
    const keeper = await keepRoomR(dir, () => hub.join('keeper'), { clock, log: (m) => said.push(m) });
    hub.join('good');
    const evil = hub.join('evil');
    const synced = () => new Set(hub.sent.filter((m) => m.from === 'keeper' && m.channel.startsWith('yjs:junk-')).map((m) => m.channel)).size;
    await evil.channel(CATALOG_CHANNEL).send('keeper', encodeAnnounce(junk(0, 1000)));
    await evil.channel(CATALOG_CHANNEL).send('keeper', encodeAnnounce(junk(1000, 1000)));
    await new Promise((resolve) => setTimeout(resolve, 20)); // the keeper's hellos are sent
    expect(synced()).toBe(1000); // without the limit: 2000, a hello to each peer for every one
    expect(said.filter((m) => m.includes('evil announces new documents faster than 10 a second'))).toHaveLength(1);
    clock.advance(10_000);
    await evil.channel(CATALOG_CHANNEL).send('keeper', encodeAnnounce(junk(2000, 200)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(synced()).toBe(1100);
    await keeper.close();
  });

  it('refuses a limit that is not a whole number >= 1 with bad-argument', async () => {
    const dir = newKeeperDir();
    await expect(keepRoomR(dir, () => new FakeHub().join('k'), { maxDocsPerRoom: 0 })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(keepRoomR(dir, () => new FakeHub().join('k'), { maxEmptyDocsPerRoom: 1.5 })).rejects.toMatchObject({ code: 'bad-argument' });
  });
});
