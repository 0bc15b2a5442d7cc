/**
 * The update log against file-system failures it cannot cause on a healthy disk: a short
 * write (what write(2) returns when the disk fills mid-batch), a write that fails outright
 * (ENOSPC), an open that fails (EMFILE: too many open files), and whether a new log's
 * directory entry is fsynced. `node:fs` is wrapped to inject those and to record the fsyncs.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as Y from 'yjs';

const fault = vi.hoisted(() => ({ shortWrites: 0, failWrites: 0, failOpensOf: '', fsynced: [] as string[], paths: new Map<number, string>() }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const openSync = ((path: string, ...rest: unknown[]) => {
    if (String(path) === fault.failOpensOf) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
    const fd = (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
    fault.paths.set(fd, String(path));
    return fd;
  }) as typeof fs.openSync;
  const fsyncSync = ((fd: number) => {
    fault.fsynced.push(fault.paths.get(fd) ?? '?');
    return fs.fsyncSync(fd);
  }) as typeof fs.fsyncSync;
  const writeSync = ((fd: number, buf: Uint8Array, off: number, len: number, pos: number) => {
    if (fault.shortWrites > 0 && len > 8) {
      fault.shortWrites--;
      return fs.writeSync(fd, buf, off, Math.floor(len / 2), pos);
    }
    if (fault.failWrites > 0 && len > 8) {
      fault.failWrites--;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return fs.writeSync(fd, buf, off, len, pos);
  }) as typeof fs.writeSync;
  const patched = { ...fs, openSync, fsyncSync, writeSync };
  return { ...patched, default: patched };
});

const { UpdateLog } = await import('../../src/yjs/keeper/update-log.js');
const { ManualClock } = await import('../../src/util/clock.js');

const dirs: string[] = [];
afterEach(() => {
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  Object.assign(fault, { shortWrites: 0, failWrites: 0, failOpensOf: '', fsynced: [] });
});
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'mp-ylog-fs-'));
  dirs.push(d);
  return join(d, 'doc.ylog');
}

function reload(path: string): { text: string; messages: string[] } {
  const doc = new Y.Doc();
  const messages: string[] = [];
  const { log, updates } = UpdateLog.open(path, { snapshot: () => Y.encodeStateAsUpdate(doc), fsync: 'never', log: (m) => messages.push(m) });
  updates.forEach((u) => Y.applyUpdate(doc, u));
  log.close();
  return { text: doc.getText('t').toString(), messages };
}

describe('update log on a failing file system', () => {
  it('writes the rest of a batch after a short write, so later edits are not lost behind a hole', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = UpdateLog.open(path, { snapshot: () => Y.encodeStateAsUpdate(doc), fsync: 'never', log: () => {} });
    doc.on('update', (u: Uint8Array) => log.append(u));
    const text = doc.getText('t');
    text.insert(0, 'first ');
    log.flush();
    fault.shortWrites = 1;
    text.insert(6, 'second ');
    log.flush();
    text.insert(13, 'third');
    log.flush();
    log.close();
    expect(reload(path)).toEqual({ text: 'first second third', messages: [] });
  });

  it('keeps a batch whose write fails (disk full), cuts off what was written, and writes it on its own later', async () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const said: string[] = [];
    const { log } = UpdateLog.open(path, { snapshot: () => Y.encodeStateAsUpdate(doc), fsync: 'never', log: (m) => said.push(m) });
    doc.on('update', (u: Uint8Array) => log.append(u));
    const text = doc.getText('t');
    const turn = () => new Promise((r) => setImmediate(r));
    text.insert(0, 'before ');
    await turn(); // written at the end of the turn
    const size = log.size;
    // Half the batch gets written, then the disk is full.
    fault.shortWrites = 1;
    fault.failWrites = 1;
    text.insert(7, 'during');
    await turn();
    expect(said.join('\n')).toMatch(/could not write 1 updates \(kept, will retry\): ENOSPC/);
    expect(log.size).toBe(size);
    expect(readFileSync(path).length).toBe(size);
    // Nothing else is typed: the retry timer writes it (within ~1 s).
    await vi.waitFor(() => expect(log.size).toBeGreaterThan(size), { timeout: 3000, interval: 50 });
    log.close();
    expect(reload(path)).toEqual({ text: 'before during', messages: [] });
  });

  it('flush() reports a failed write with the code log-write-failed and keeps the updates', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = UpdateLog.open(path, { snapshot: () => Y.encodeStateAsUpdate(doc), fsync: 'never', log: () => {} });
    doc.on('update', (u: Uint8Array) => log.append(u));
    doc.getText('t').insert(0, 'kept');
    fault.failWrites = 1;
    expect(() => log.flush()).toThrow(expect.objectContaining({ code: 'log-write-failed' }));
    log.flush(); // the disk has room again
    log.close();
    expect(reload(path).text).toBe('kept');
  });

  it('keeps appending to the compacted log when files cannot be opened (too many open files) as it compacts', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const messages: string[] = [];
    const { log } = UpdateLog.open(path, { snapshot: () => Y.encodeStateAsUpdate(doc), fsync: 'never', compactBytes: 1000, log: (m) => messages.push(m) });
    doc.on('update', (u: Uint8Array) => log.append(u));
    doc.getText('t').insert(0, 'x'.repeat(2000));
    fault.failOpensOf = path; // from here on, the log cannot be opened by its name
    log.flush(); // past compactBytes: compacts
    expect(log.size).toBeLessThan(2000 + 100); // one merged record
    doc.getText('t').insert(0, 'after ');
    log.flush();
    log.close();
    fault.failOpensOf = '';
    expect(reload(path).text).toBe(`after ${'x'.repeat(2000)}`);
    expect(messages).toEqual([]);
  });

  it('tries a failed compaction again 30 s later, backing off while it fails, or once the log has doubled', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const clock = new ManualClock();
    const messages: string[] = [];
    const { log } = UpdateLog.open(path, { snapshot: () => Y.encodeStateAsUpdate(doc), fsync: 'never', compactBytes: 1000, clock, log: (m) => messages.push(m) });
    doc.on('update', (u: Uint8Array) => log.append(u));
    const type = (chars: number) => {
      doc.getText('t').insert(0, 'y'.repeat(chars));
      log.flush();
    };
    const tries = () => messages.filter((m) => m.includes('compaction failed')).length;
    fault.failOpensOf = `${path}.tmp`; // the compacted file cannot be created
    type(2000); // past compactBytes
    expect(tries()).toBe(1);
    expect(messages[0]).toMatch(/compaction failed \(1 in a row\).*next try in 30 s.*EMFILE/);
    clock.advance(29_000);
    type(10);
    expect(tries()).toBe(1); // not with every write
    clock.advance(1_000);
    type(10);
    expect(tries()).toBe(2); // 30 s on (still failing: the next wait is 60 s)
    clock.advance(1_000);
    type(log.size); // the log doubles within the wait: tried at once
    expect(tries()).toBe(3);
    expect(messages[2]).toMatch(/\(3 in a row\).*next try in 120 s/);
    clock.advance(119_000);
    fault.failOpensOf = ''; // the failure passes
    type(10);
    expect(tries()).toBe(3);
    clock.advance(1_000);
    type(10); // 120 s on: compacted into one record
    expect(tries()).toBe(3);
    log.close();
    const reopened = UpdateLog.open(path, { snapshot: () => new Uint8Array(), fsync: 'never', log: (m) => messages.push(m) });
    reopened.log.close();
    expect(reopened.updates.length).toBe(1); // the merged document
    expect(reload(path).text).toBe(doc.getText('t').toString());
  });

  it('fsyncs the directory when it creates a log, so the new file survives a power cut (fsync: always)', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = UpdateLog.open(path, { snapshot: () => Y.encodeStateAsUpdate(doc), fsync: 'always', log: () => {} });
    expect(fault.fsynced).toContain(dirname(path));
    doc.on('update', (u: Uint8Array) => log.append(u));
    doc.getText('t').insert(0, 'acknowledged');
    fault.fsynced.length = 0;
    log.flush();
    expect(fault.fsynced).toEqual([path]);
    log.close();
  });
});
