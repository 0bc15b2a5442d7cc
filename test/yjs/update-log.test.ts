import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as Y from 'yjs';
import { UpdateLog } from '../../src/yjs/keeper/update-log.js';
import { crc32 } from '../../src/yjs/keeper/crc32.js';

const dirs: string[] = [];
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'mp-ylog-'));
  dirs.push(d);
  return join(d, 'doc.ylog');
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function openInto(path: string, doc: Y.Doc, messages: string[] = [], compactBytes?: number) {
  const { log, updates } = UpdateLog.open(path, {
    snapshot: () => Y.encodeStateAsUpdate(doc),
    log: (m) => messages.push(m),
    compactBytes,
  });
  updates.forEach((u) => Y.applyUpdate(doc, u, 'disk'));
  doc.on('update', (u: Uint8Array, origin: unknown) => origin !== 'disk' && log.append(u));
  return { log, updates };
}

/** The contents of the copies set aside next to the log at `path`. */
function copiesAside(path: string): Buffer[] {
  const dir = dirname(path);
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${basename(path)}.damaged-`))
    .map((f) => readFileSync(join(dir, f)));
}

describe('update log', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('keeps every update across a reopen', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = openInto(path, doc);
    for (let i = 0; i < 50; i++) doc.getText('t').insert(i, 'x');
    log.close();
    const again = new Y.Doc();
    const { updates } = openInto(path, again);
    expect(updates.length).toBe(50);
    expect(again.getText('t').toString()).toBe('x'.repeat(50));
  });

  it('a torn tail record: keeps every record before it, copies the original aside, and the log keeps working', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = openInto(path, doc);
    doc.getText('t').insert(0, 'safe');
    log.flush();
    const goodSize = statSync(path).size;
    log.close();
    // A crash in the middle of writing the next record: header says 100 bytes, 3 written.
    const torn = new Uint8Array(8 + 3);
    new DataView(torn.buffer).setUint32(0, 100, true);
    appendFileSync(path, torn);
    const original = readFileSync(path);
    const messages: string[] = [];
    const again = new Y.Doc();
    const { log: log2 } = openInto(path, again, messages);
    expect(again.getText('t').toString()).toBe('safe');
    expect(messages.join('\n')).toMatch(/unreadable tail from byte \d+ \(11 bytes\); kept 1 intact records/);
    expect(statSync(path).size).toBe(goodSize);
    expect(copiesAside(path)).toEqual([original]);
    // and the log keeps working after the repair
    again.getText('t').insert(4, '!');
    log2.close();
    const third = new Y.Doc();
    openInto(path, third).log.close();
    expect(third.getText('t').toString()).toBe('safe!');
  });

  it('a damaged record costs that record only: the intact ones after it are kept', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = openInto(path, doc);
    // three independent clients' edits, one record each
    for (const word of ['one', 'two', 'three']) {
      const other = new Y.Doc();
      other.getMap('m').set(word, word);
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(other));
      log.flush();
    }
    log.close();
    const bytes = readFileSync(path);
    bytes[8 + 8 + 2]! ^= 0xff; // a payload byte of the first record; its length field is intact
    writeFileSync(path, bytes);
    const messages: string[] = [];
    const again = new Y.Doc();
    openInto(path, again, messages).log.close();
    expect(again.getMap('m').toJSON()).toEqual({ two: 'two', three: 'three' });
    expect(messages.join('\n')).toMatch(/unreadable bytes 8\.\.\d+; kept 2 intact records/);
    expect(copiesAside(path)).toEqual([bytes]);
    // the repaired log reads clean
    const quiet: string[] = [];
    openInto(path, new Y.Doc(), quiet).log.close();
    expect(quiet).toEqual([]);
  });

  it('a damaged header does not cost the records after it', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = openInto(path, doc);
    for (let i = 0; i < 20; i++) {
      doc.getText('t').insert(i, 'x');
      log.flush();
    }
    log.close();
    const bytes = readFileSync(path);
    bytes[0]! ^= 0x01; // 'M' -> 'L'
    writeFileSync(path, bytes);
    const messages: string[] = [];
    const again = new Y.Doc();
    openInto(path, again, messages).log.close();
    expect(again.getText('t').toString()).toBe('x'.repeat(20));
    expect(messages.join('\n')).toMatch(/damaged header; kept 20 intact records/);
    expect(copiesAside(path)).toEqual([bytes]);
  });

  it('refuses a log of another format version with log-version and leaves the file as it is', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = openInto(path, doc);
    doc.getText('t').insert(0, 'precious');
    log.close();
    const bytes = readFileSync(path);
    bytes[6] = '2'.charCodeAt(0); // MPYLOG2
    writeFileSync(path, bytes);
    expect(() => UpdateLog.open(path, { snapshot: () => new Uint8Array() })).toThrow(expect.objectContaining({ code: 'log-version' }));
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(copiesAside(path)).toEqual([]);
  });

  it('reads a zero-filled tail (space allocated, never written) as unreadable, not as empty records', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = openInto(path, doc);
    doc.getText('t').insert(0, 'ok');
    log.close();
    const good = statSync(path).size;
    appendFileSync(path, new Uint8Array(4096));
    const messages: string[] = [];
    const { log: log2, updates } = UpdateLog.open(path, { snapshot: () => new Uint8Array(), log: (m) => messages.push(m) });
    log2.close();
    expect(updates.length).toBe(1);
    expect(statSync(path).size).toBe(good);
    expect(messages.join('\n')).toMatch(/unreadable tail .*4096 bytes/);
  });

  it('keepCopy() copies the log as stored, byte for byte', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = openInto(path, doc);
    doc.getText('t').insert(0, 'kept');
    log.flush();
    const copy = log.keepCopy();
    log.close();
    expect(copy).toMatch(/doc\.ylog\.damaged-\d+$/);
    expect(readFileSync(copy).equals(readFileSync(path))).toBe(true);
  });

  it('keepCopy() of the same bytes again reuses the copy it made (the same damage is kept once)', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = openInto(path, doc);
    doc.getText('t').insert(0, 'kept');
    log.flush();
    const first = log.keepCopy();
    expect(log.keepCopy()).toBe(first);
    doc.getText('t').insert(0, 'more ');
    log.flush();
    const second = log.keepCopy(); // other bytes: a copy of their own
    log.close();
    expect(second).not.toBe(first);
    expect(copiesAside(path).map((b) => b.length).sort()).toEqual([statSync(first).size, statSync(path).size].sort());
  });

  it('compacts into one merged record when the log grows past the threshold', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = openInto(path, doc, [], 4096);
    const text = doc.getText('t');
    for (let i = 0; i < 2000; i++) {
      text.insert(text.length, 'abc');
      if (i % 10 === 0) log.flush();
      if (i % 7 === 0) text.delete(0, 1);
    }
    log.close();
    expect(statSync(path).size).toBeLessThan(3 * 8192);
    const again = new Y.Doc();
    const { updates } = openInto(path, again);
    expect(updates.length).toBeLessThan(200);
    expect(again.getText('t').toString()).toBe(text.toString());
  });

  it('compacts a log that is reopened before it doubles: the threshold is twice the merged document, not the size at open', () => {
    const path = tempFile();
    const compactBytes = 16 * 1024;
    const sizes: number[] = [];
    let expected = '';
    for (let restart = 0; restart < 12; restart++) {
      const doc = new Y.Doc();
      const { log } = openInto(path, doc, [], compactBytes);
      const text = doc.getText('t');
      // the same typing each run: ~12 KiB of log, under the threshold on its own
      for (let i = 0; i < 300; i++) {
        text.insert(text.length, 'ab');
        if (i % 3 === 0) text.delete(0, 1);
        log.flush();
      }
      expected = text.toString();
      log.close();
      sizes.push(statSync(path).size);
    }
    const again = new Y.Doc();
    openInto(path, again).log.close();
    expect(again.getText('t').toString()).toBe(expected);
    const merged = Y.encodeStateAsUpdate(again).length;
    // Growing with every restart reached ~105 KiB here; bounded, it stays near the threshold.
    expect(Math.max(...sizes)).toBeLessThan(2 * Math.max(compactBytes, 2 * merged));
  });
});
