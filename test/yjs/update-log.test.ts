import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('truncates a torn tail record, logs why, and keeps every record before it', () => {
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
    const messages: string[] = [];
    const again = new Y.Doc();
    const { log: log2 } = openInto(path, again, messages);
    expect(again.getText('t').toString()).toBe('safe');
    expect(messages.join('\n')).toMatch(/runs past the end/);
    expect(statSync(path).size).toBe(goodSize);
    // and the log keeps working after the truncation
    again.getText('t').insert(4, '!');
    log2.close();
    const third = new Y.Doc();
    openInto(path, third).log.close();
    expect(third.getText('t').toString()).toBe('safe!');
  });

  it('detects a damaged record by checksum and keeps the records before it', () => {
    const path = tempFile();
    const doc = new Y.Doc();
    const { log } = openInto(path, doc);
    doc.getText('t').insert(0, 'one');
    log.flush();
    const firstEnd = statSync(path).size;
    doc.getText('t').insert(3, 'two');
    log.close();
    const bytes = readFileSync(path);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(path, bytes);
    const messages: string[] = [];
    const again = new Y.Doc();
    openInto(path, again, messages).log.close();
    expect(again.getText('t').toString()).toBe('one');
    expect(messages.join('\n')).toMatch(/checksum mismatch/);
    expect(statSync(path).size).toBe(firstEnd);
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
});
