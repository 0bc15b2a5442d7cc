/**
 * Aborting a keeper that is still starting (`createKeeper({ signal })`, fake rooms, real
 * files): it rejects with `aborted` at once instead of waiting for a join that hangs,
 * and leaves nothing open or lost: the rooms joined are left, what they received is on
 * disk, the logs are closed, the lock is free and a later keeper loads everything. It
 * starts no join after the abort, and a late room whose leave fails cannot crash the
 * process with an unhandled rejection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import type { Room } from '../../src/mesh/types.js';
import { createKeeper } from '../../src/yjs/keeper/keeper.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { waitFor } from '../support/net.js';
import { FakeHub } from './fake-room.js';
import { readKeeperDir, seedKeeperDir } from './support/keeper-dir.js';

const quiet = () => {};
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mp-keeper-abort-'));
  dirs.push(d);
  return d;
}

/** Files under `dir` this process has open (Linux: /proc/self/fd). */
function openFilesUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return []; // closed meanwhile
    }
  });
}

/** `promise`, or a rejection saying it was still pending after `ms` (a bound with slack, not a target). */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('keeper: aborting its startup', () => {
  it('while a room is still being joined: rejects at once, leaves the rooms joined, writes what they received, closes the logs, frees the lock', async () => {
    const dir = tempDir();
    const stored = { a: { notes: 'first run' }, b: { other: 'kept in b' } };
    await seedKeeperDir(dir, stored);
    const hubA = new FakeHub();
    const hubB = new FakeHub();
    const controller = new AbortController();
    let keeperInA: Room | undefined;
    let joinB: { signal: AbortSignal | undefined; finish: (room: Room) => void } | undefined;
    const starting = createKeeper({
      rooms: ['a', 'b'],
      dir,
      fsync: 'always',
      log: quiet,
      signal: controller.signal,
      join: (room, signal) => {
        if (room === 'a') return (keeperInA = hubA.join('keeper'));
        // Room b is joined through a relay that never answers: only the abort ends the wait.
        return new Promise<Room>((finish) => (joinB = { signal, finish }));
      },
    });
    await waitFor(() => joinB, 'the keeper joined room a and is joining room b');
    expect(joinB!.signal).toBe(controller.signal);

    // A peer in room a edits a stored document; the keeper receives the edit and, in the
    // same turn (before its log's next write), is aborted: the edit must still reach disk.
    const writer = createYjsProvider(hubA.join('writer'), new Y.Doc(), { name: 'notes', log: quiet });
    await waitFor(() => writer.synced, 'the peer synced with the keeper');
    const edit = ' + edited while it starts';
    keeperInA!.channel('yjs:notes').on('message', ({ from, data }) => {
      if (from === 'writer' && Buffer.from(data).includes(edit)) controller.abort('test');
    });
    writer.doc.getText('t').insert(writer.doc.getText('t').length, edit);

    await expect(within(2000, starting, 'the aborted startup')).rejects.toMatchObject({ code: 'aborted', detail: { joined: ['a'], reason: 'test' } });
    expect(hubA.rooms.has('keeper'), 'room a is left').toBe(false);
    expect(openFilesUnder(dir), 'every log is closed').toEqual([]);
    expect(existsSync(join(dir, 'keeper.lock')), 'the lock is released').toBe(false);

    // The join that was abandoned succeeds after all: that room is left at once.
    joinB!.finish(hubB.join('keeper'));
    await waitFor(() => !hubB.rooms.has('keeper'), 'the room joined after the abort is left');

    writer.destroy();
    expect(await readKeeperDir(dir, ['a', 'b'])).toEqual({ a: { notes: `first run${edit}` }, b: stored.b });
  });

  it('before it starts, or as the last room is loaded: rejects, and nothing is left open', async () => {
    const dir = tempDir();
    let joins = 0;
    const countingJoin = () => (joins++, new FakeHub().join('keeper'));
    await expect(createKeeper({ rooms: ['a'], dir, join: countingJoin, log: quiet, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted', detail: { joined: [] } });
    expect(joins, 'no room is joined').toBe(0);
    expect(existsSync(join(dir, 'keeper.lock')), 'no lock is taken').toBe(false);

    // Aborted while the last room's stored documents load, after its join: still no keeper.
    await seedKeeperDir(dir, { a: { notes: 'stored' } });
    const hub = new FakeHub();
    const controller = new AbortController();
    const log = (m: string) => m.includes('keeping "notes"') && controller.abort();
    await expect(createKeeper({ rooms: ['a'], dir, join: () => hub.join('keeper'), log, signal: controller.signal })).rejects.toMatchObject({ code: 'aborted', detail: { joined: ['a'] } });
    expect(hub.rooms.has('keeper'), 'the room is left').toBe(false);
    expect(openFilesUnder(dir)).toEqual([]);
    expect(await readKeeperDir(dir, ['a'])).toEqual({ a: { notes: 'stored' } });
  });

  it('while a room that is not the last one loads: the next room is not joined at all', async () => {
    const dir = tempDir();
    await seedKeeperDir(dir, { a: { notes: 'stored' } });
    const hub = new FakeHub();
    const controller = new AbortController();
    const joinsStarted: string[] = [];
    const log = (m: string) => m.includes('keeping "notes"') && controller.abort('test');
    // This join ignores the signal, like many a custom one: started, it would join room b.
    const join = (room: string) => (joinsStarted.push(room), hub.join(`keeper-${room}`));
    await expect(createKeeper({ rooms: ['a', 'b'], dir, join, log, signal: controller.signal })).rejects.toMatchObject({ code: 'aborted', detail: { joined: ['a'] } });
    expect(joinsStarted).toEqual(['a']);
    expect([...hub.rooms.keys()], 'room a is left').toEqual([]);
  });

  it('a room the abandoned join gets later, whose leave() fails, is logged, not an unhandled rejection', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    let finish: ((room: Room) => void) | undefined;
    const said: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const starting = createKeeper({ rooms: ['a'], dir, log: (m) => said.push(m), signal: controller.signal, join: () => new Promise<Room>((f) => (finish = f)) });
      await waitFor(() => finish, 'the keeper is joining room a');
      controller.abort('test');
      await expect(starting).rejects.toMatchObject({ code: 'aborted', detail: { joined: [] } });
      // A custom join's Room whose leave fails.
      const rejecting = new FakeHub().join('keeper');
      rejecting.leave = () => Promise.reject(new Error('leave rejected'));
      finish!(rejecting);
      await new Promise((r) => setTimeout(r, 20)); // an unhandled rejection is reported after the microtasks
      expect(unhandled).toEqual([]);
      expect(said.find((m) => m.includes('leave rejected'))).toMatch(/^room a: leaving it, joined after the startup was aborted, failed/);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
