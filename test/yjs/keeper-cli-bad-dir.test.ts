/**
 * `meshparty keeper --dir` naming a directory that cannot be made: the process says why,
 * with the stable code, and exits 1. Under /proc mkdir fails with ENOENT while the parent
 * exists, and Node's recursive mkdir retried that forever: the keeper spun at full CPU in
 * native code, deaf to SIGTERM, before it had printed anything.
 */
import { resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type CapturedProcess, spawnNode } from '../support/node-process.js';

const root = resolve(import.meta.dirname, '../..');
const processes: CapturedProcess[] = [];
afterAll(() => processes.forEach((p) => p.child.kill('SIGKILL')));

it('a --dir that cannot be created (under /proc): store-unreadable and exit 1, not a busy loop', async () => {
  // Port 1: nothing listens, and the keeper must fail on its directory before joining anyway.
  const keeper = spawnNode(['bin/meshparty.js', 'keeper', '--relay', 'ws://127.0.0.1:1', '--room', 'r', '--dir', '/proc/meshparty-keeper-test/data'], {
    cwd: root,
  });
  processes.push(keeper);
  // Starting tsx and loading wrtc take a few seconds on a loaded machine; a hang never ends.
  const code = await Promise.race([keeper.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 20_000).unref())]);
  expect(code, `stdout: ${keeper.stdout()}\nstderr: ${keeper.stderr()}`).toBe(1);
  expect(keeper.stderr()).toMatch(/cannot lock \/proc\/meshparty-keeper-test\/data: ENOENT.*\[store-unreadable\]/);
}, 30_000);
