/**
 * The keeper's directory lock beyond one host's pids: a lock written on another host
 * (containers sharing a volume, all pid 1) counts as held while its heartbeat keeps it
 * fresh and is taken over once stale; taking over is atomic, so two keepers that judge
 * the same stale lock at once do not both end up holding the directory.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDir } from '../../src/yjs/keeper/dir-lock.js';
import { waitFor } from '../support/net.js';

const dirs: string[] = [];
const releases: Array<() => void> = [];
afterEach(() => {
  for (const release of releases.splice(0)) release();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'meshparty-lock-'));
  dirs.push(d);
  return d;
};
const hold = (dir: string, options?: Parameters<typeof lockDir>[1]) => {
  const release = lockDir(dir, options);
  releases.push(release);
  return release;
};
const lockText = (dir: string) => readFileSync(join(dir, 'keeper.lock'), 'utf8').trim();
const ageLock = (dir: string, ageMs: number) => {
  const then = new Date(Date.now() - ageMs);
  utimesSync(join(dir, 'keeper.lock'), then, then);
};

describe('keeper directory lock', () => {
  it('a lock from another host is held while fresh, and taken over once stale', () => {
    const dir = tempDir();
    // Another container's keeper: pid 1, like ours would be there.
    writeFileSync(join(dir, 'keeper.lock'), '1 1700000000000 other-box\n');
    let err: unknown;
    try {
      lockDir(dir, { host: 'this-box' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'dir-locked', detail: { holder: '1 1700000000000 other-box' } });
    expect((err as Error).message).toMatch(/on host other-box, pid 1, last seen \d+ s ago/);

    ageLock(dir, 31_000);
    hold(dir, { host: 'this-box' });
    expect(lockText(dir)).toMatch(new RegExp(`^${process.pid} \\d+ this-box$`));
  });

  it('the holder keeps its lock fresh, and its release removes it', async () => {
    const dir = tempDir();
    const release = hold(dir, { heartbeatMs: 20 });
    ageLock(dir, 60_000);
    await waitFor(() => Date.now() - statSync(join(dir, 'keeper.lock')).mtimeMs < 5_000, 'the heartbeat touching the lock');
    // Fresh, so another host's keeper is turned away.
    expect(() => lockDir(dir, { host: 'other-box' })).toThrow(expect.objectContaining({ code: 'dir-locked' }));
    release();
    expect(existsSync(join(dir, 'keeper.lock'))).toBe(false);
  });

  it('two keepers taking over the same stale lock at once: only the first holds the directory', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'keeper.lock'), '1 1700000000000 gone-box\n');
    ageLock(dir, 60_000);
    let first: (() => void) | undefined;
    let interleaved = false;
    // The second keeper judges the lock stale; before it takes over, the first one does.
    const second = () =>
      lockDir(dir, {
        host: 'this-box',
        beforeTakeover: () => {
          if (interleaved) return;
          interleaved = true;
          first = hold(dir, { host: 'this-box' });
        },
      });
    expect(second).toThrow(expect.objectContaining({ code: 'dir-locked' }));
    expect(interleaved).toBe(true);
    // The first keeper's lock survived the second's takeover attempt, and is still its own.
    expect(lockText(dir)).toMatch(new RegExp(`^${process.pid} \\d+ this-box$`));
    expect(readdirLeftovers(dir)).toEqual([]);
    first!();
    expect(existsSync(join(dir, 'keeper.lock'))).toBe(false);
  });

  it('tells its holder when another keeper has taken the lock over', async () => {
    const dir = tempDir();
    const lost: string[] = [];
    hold(dir, { heartbeatMs: 20, onLost: (by) => lost.push(by) });
    writeFileSync(join(dir, 'keeper.lock'), '1 1800000000000 other-box\n');
    await waitFor(() => lost.length > 0, 'onLost');
    expect(lost).toEqual(['1 1800000000000 other-box']);
  });

  it('writes its lock again when it is deleted while held, so a second keeper is still turned away', async () => {
    const dir = tempDir();
    const missing: Array<Error | undefined> = [];
    hold(dir, { heartbeatMs: 20, onMissing: (problem) => missing.push(problem) });
    const mine = lockText(dir);
    rmSync(join(dir, 'keeper.lock')); // an operator who took the keeper for stopped
    await waitFor(() => existsSync(join(dir, 'keeper.lock')), 'the lock written again');
    expect(lockText(dir)).toBe(mine);
    expect(missing).toEqual([undefined]);
    expect(() => lockDir(dir)).toThrow(expect.objectContaining({ code: 'dir-locked' }));
  });

  it('says so, once, when its directory is gone and the lock cannot be written again', async () => {
    const dir = tempDir();
    const missing: Array<Error | undefined> = [];
    hold(dir, { heartbeatMs: 20, onMissing: (problem) => missing.push(problem) });
    rmSync(dir, { recursive: true }); // removed or unmounted under a running keeper
    await waitFor(() => missing.length > 0, 'onMissing');
    await new Promise((r) => setTimeout(r, 200)); // ten more beats: no further calls
    expect(missing).toEqual([expect.objectContaining({ code: 'store-unreadable', message: expect.stringContaining('ENOENT') })]);
  });
});

/** Files a takeover set aside and did not clean up. */
function readdirLeftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith('keeper.lock.'));
}
