/**
 * keeper.flush() when one document's log cannot be written (a write fails with ENOSPC,
 * injected by wrapping `node:fs`): the other documents' logs are still written.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { FakeHub } from './fake-room.js';
import { waitFor } from '../support/net.js';

const fault = vi.hoisted(() => ({ failWrites: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((fd: number, buf: Uint8Array, off: number, len: number, pos: number) => {
    if (fault.failWrites > 0) {
      fault.failWrites--;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return fs.writeSync(fd, buf, off, len, pos);
  }) as typeof fs.writeSync;
  const patched = { ...fs, writeSync };
  return { ...patched, default: patched };
});

const { createKeeper } = await import('../../src/yjs/keeper/keeper.js');
const { createYjsProvider } = await import('../../src/yjs/provider.js');
const { docLogPath, storeName } = await import('../../src/yjs/keeper/store-names.js');

const dirs: string[] = [];
afterEach(() => {
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  fault.failWrites = 0;
});

describe('keeper.flush()', () => {
  it('writes every other log when one fails, then throws log-write-failed naming the one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-flush-'));
    dirs.push(dir);
    const hub = new FakeHub();
    const keeper = await createKeeper({ rooms: ['r'], dir, join: () => hub.join('keeper'), fsync: 'never', log: () => {} });
    const providers = ['a', 'b'].map((name) => createYjsProvider(hub.join(`p-${name}`), new Y.Doc(), { name, log: () => {} }));
    for (const p of providers) p.doc.getText('t').insert(0, 'stored ');
    await waitFor(() => ['a', 'b'].every((n) => keeper.docs('r').get(n)?.getText('t').toString() === 'stored '), 'the keeper has both');
    await new Promise((r) => setTimeout(r, 20)); // their logs written
    const paths = ['a', 'b'].map((n) => docLogPath(join(dir, storeName('r')), n));
    const before = paths.map((p) => statSync(p).size);

    // Edits queued in both logs this turn; the first write of the flush fails.
    for (const n of ['a', 'b']) keeper.docs('r').get(n)!.getText('t').insert(7, 'later');
    fault.failWrites = 1;
    let error: unknown;
    try {
      keeper.flush();
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'log-write-failed' });
    // The other log was written all the same; the error names the one that was not.
    const grew = paths.map((p, i) => statSync(p).size > before[i]!);
    expect(grew.filter(Boolean)).toHaveLength(1);
    const failedPaths = (error as { detail: { paths: string[] } }).detail.paths;
    expect(failedPaths).toEqual(paths.filter((_, i) => !grew[i]));

    keeper.flush(); // the disk has room again: the failed log's updates were kept
    expect(statSync(failedPaths[0]!).size).toBeGreaterThan(before[paths.indexOf(failedPaths[0]!)]!);
    providers.forEach((p) => p.destroy());
    await keeper.close();

    const again = await createKeeper({ rooms: ['r'], dir, join: () => new FakeHub().join('keeper'), fsync: 'never', log: () => {} });
    expect(['a', 'b'].map((n) => again.docs('r').get(n)?.getText('t').toString())).toEqual(['stored later', 'stored later']);
    await again.close();
  });

  it('close() stops everything even when a final write fails, then rejects log-write-failed with what was lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-close-'));
    dirs.push(dir);
    const hub = new FakeHub();
    const said: string[] = [];
    const keeper = await createKeeper({ rooms: ['r'], dir, join: () => hub.join('keeper'), fsync: 'never', log: (m) => said.push(m) });
    const provider = createYjsProvider(hub.join('p'), new Y.Doc(), { name: 'a', log: () => {} });
    provider.doc.getText('t').insert(0, 'stored');
    await waitFor(() => keeper.docs('r').get('a')?.getText('t').toString() === 'stored', 'the keeper has it');
    await new Promise((r) => setTimeout(r, 20)); // its log written
    keeper.docs('r').get('a')!.getText('t').insert(6, ' and lost'); // queued this turn
    fault.failWrites = 1_000; // the disk is full from here on
    const path = docLogPath(join(dir, storeName('r')), 'a');
    await expect(keeper.close()).rejects.toMatchObject({ code: 'log-write-failed', detail: { paths: [path], lost: 1 } });
    expect(said.some((m) => m.includes('final write failed'))).toBe(true);
    // Everything was stopped all the same: the directory's lock is free for the next keeper.
    fault.failWrites = 0;
    provider.destroy();
    const again = await createKeeper({ rooms: ['r'], dir, join: () => new FakeHub().join('keeper'), fsync: 'never', log: () => {} });
    expect(again.docs('r').get('a')?.getText('t').toString()).toBe('stored');
    await again.close();
  });
});
