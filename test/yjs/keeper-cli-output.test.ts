/**
 * `meshparty keeper` with nobody reading its output: its console lines (the WebRTC engine,
 * the rooms kept, warnings) fail with EPIPE, which must not end a keeper.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createSignalingServer, InMemoryRoomDirectory, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { waitFor } from '../support/net.js';
import { type CapturedProcess, spawnNode } from '../support/node-process.js';

const root = resolve(import.meta.dirname, '../..');
let relay: SignalingServer | undefined;
let keeper: CapturedProcess | undefined;
let dir: string | undefined;
afterAll(async () => {
  keeper?.child.kill('SIGKILL');
  await relay?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a keeper whose stdout and stderr were closed before it was up joins its room and stops cleanly', async () => {
  const rooms = new InMemoryRoomDirectory();
  relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger, rooms });
  dir = mkdtempSync(join(tmpdir(), 'mp-keeper-output-'));
  keeper = spawnNode(['bin/meshparty.js', 'keeper', '--relay', relay.address.url, '--room', 'a', '--dir', dir], { cwd: root });
  keeper.child.stdout!.destroy(); // its first line (the WebRTC engine) fails with EPIPE
  keeper.child.stderr!.destroy();
  let exitCode: number | null | undefined;
  void keeper.exited.then((code) => (exitCode = code));
  await waitFor(
    () => {
      if (exitCode !== undefined) throw new Error(`the keeper exited with ${exitCode} before joining`);
      return rooms.size('a') === 1;
    },
    'the keeper to join room a',
    30_000,
  );
  // It stops on SIGTERM as usual, printing (to nobody) as it goes.
  keeper.child.kill('SIGTERM');
  expect(await keeper.exited).toBe(0);
}, 60_000);
