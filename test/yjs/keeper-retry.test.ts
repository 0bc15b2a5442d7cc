/**
 * A document the keeper could not start keeping (its log could not be created: a full
 * disk) is tried again on a timer, backing off, so it is kept once space returns even
 * though its peers stay and never announce it again. `node:fs` is wrapped to fill the disk.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';

const disk = vi.hoisted(() => ({ full: false }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((fd: number, ...rest: unknown[]) => {
    if (disk.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return (fs.writeSync as (...a: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.writeSync;
  const patched = { ...fs, writeSync };
  return { ...patched, default: patched };
});

const { createMemoryNetwork } = await import('../../src/mesh/memory-network.js');
const { silentLogger } = await import('../../src/mesh/logger.js');
const { ManualClock } = await import('../../src/util/clock.js');
const { createYjsProvider } = await import('../../src/yjs/provider.js');
const { createKeeper } = await import('../../src/yjs/keeper/keeper.js');
const { docLogPath, storeName } = await import('../../src/yjs/keeper/store-names.js');

const dirs: string[] = [];
afterEach(() => {
  disk.full = false;
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('keeper: a document it could not start keeping', () => {
  it('is tried again (1 s, 2 s, 4 s...) and kept once the disk has room, while its peers stay and never announce it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-retry-'));
    dirs.push(dir);
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 9, clock, latencyMs: 5, mesh: { logger: silentLogger() } });
    const logs: string[] = [];
    const keeper = await createKeeper({ rooms: ['r'], dir, join: (room) => net.join(room, { peerId: 'keeper' }), clock, fsync: 'never', log: (m) => logs.push(m) });
    await net.advance(100);
    disk.full = true;
    const alice = net.join('r', { peerId: 'alice' });
    const doc = new Y.Doc();
    const provider = createYjsProvider(alice, doc, { name: 'notes', clock, log: () => {} });
    doc.getText('t').insert(0, 'typed while the disk was full');
    await net.advance(2500);
    const refusals = logs.filter((m) => m.startsWith('room r: cannot keep "notes"'));
    expect(refusals).toHaveLength(2);
    expect(refusals[0]).toMatch(/ENOSPC.*; trying again in 1 s$/);
    expect(refusals[1]).toMatch(/ENOSPC.*; trying again in 2 s$/);
    // Held in memory (synced), but with no log: it is stored once the disk has room.
    const path = docLogPath(join(dir, storeName('r')), 'notes');
    expect(existsSync(path)).toBe(false);
    expect(() => keeper.flush()).toThrow(expect.objectContaining({ code: 'log-write-failed', detail: { paths: [path] } })); // not "all on disk"

    disk.full = false;
    await net.advance(2000); // the third try, 4 s after the second
    expect(keeper.docs('r').get('notes')?.getText('t').toString()).toBe('typed while the disk was full');
    doc.getText('t').insert(0, 'then: ');
    await net.advance(500);
    await new Promise((resolve) => setImmediate(resolve)); // the log writes once per event-loop turn
    provider.destroy();
    await alice.leave();
    await keeper.close();

    const keeper2 = await createKeeper({ rooms: ['r'], dir, join: (room) => net.join(room, { peerId: 'keeper2' }), clock, fsync: 'never', log: () => {} });
    expect(keeper2.docs('r').get('notes')?.getText('t').toString()).toBe('then: typed while the disk was full');
    await keeper2.close();
  });

  /** A keeper whose disk is full when alice announces 'notes': refused once, a retry due. */
  async function refusedOnce() {
    const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-retry-'));
    dirs.push(dir);
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 9, clock, latencyMs: 5, mesh: { logger: silentLogger() } });
    const logs: string[] = [];
    let keeperRoom: ReturnType<typeof net.join> | undefined;
    const keeper = await createKeeper({ rooms: ['r'], dir, join: (room) => (keeperRoom = net.join(room, { peerId: 'keeper' })), clock, fsync: 'never', log: (m) => logs.push(m) });
    disk.full = true;
    const alice = net.join('r', { peerId: 'alice' });
    const provider = createYjsProvider(alice, new Y.Doc(), { name: 'notes', clock, log: () => {} });
    provider.doc.getText('t').insert(0, 'x'); // an empty document needs no log; this one has content
    await net.advance(500);
    const refusals = () => logs.filter((m) => m.includes('cannot keep')).length;
    expect(refusals()).toBe(1);
    const end = async () => {
      provider.destroy();
      await alice.leave();
    };
    return { net, logs, keeper, keeperRoom: keeperRoom!, refusals, end };
  }

  it('stops retrying for a room that closed on its own', async () => {
    const { net, keeper, keeperRoom, refusals, end } = await refusedOnce();
    await keeperRoom.leave(); // the room ends without keeper.close() (as after a fatal error)
    await net.advance(20 * 60_000);
    expect(refusals()).toBe(1);
    await end();
    await expect(keeper.close()).rejects.toMatchObject({ code: 'log-write-failed', detail: { lost: 1 } }); // the edit it got is in no file
  });

  it('stops its retries when it closes, saying that what the document got is lost', async () => {
    const { net, logs, keeper, refusals, end } = await refusedOnce();
    // Its log never opened: the edit is in no file, which close() must say as for a failed write.
    await expect(keeper.close()).rejects.toMatchObject({ code: 'log-write-failed', detail: { lost: 1 } });
    disk.full = false;
    await net.advance(10_000);
    expect(refusals()).toBe(1);
    expect(logs.some((m) => m.includes('keeping "notes"'))).toBe(false);
    await end();
  });
});
