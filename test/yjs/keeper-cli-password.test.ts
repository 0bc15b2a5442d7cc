/**
 * `meshparty keeper`'s room password: from MESHPARTY_ROOM_PASSWORD, so it is not on the
 * command line for every local user to read in `ps` (it is the key of the rooms'
 * end-to-end encrypted signals), and never empty: `--password "$PW"` with PW unset gave
 * a keeper whose every room closed with wrong-password while it ran on keeping nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { createSignalingServer, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { joinRoom } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import { PASSWORD_ENV, parseKeeperArgs } from '../../src/yjs/keeper/cli.js';
import { waitFor } from '../support/net.js';
import { type CapturedProcess, spawnNode } from '../support/node-process.js';
import { nodeWebRtc } from '../support/node-webrtc.js';

const root = resolve(import.meta.dirname, '../..');
const required = ['--relay', 'ws://127.0.0.1:1', '--room', 'r', '--dir', '/tmp/x'];

describe('keeper CLI: the password', () => {
  it('comes from MESHPARTY_ROOM_PASSWORD when --password is not given; --password wins', () => {
    expect(PASSWORD_ENV).toBe('MESHPARTY_ROOM_PASSWORD');
    expect(parseKeeperArgs(required, { MESHPARTY_ROOM_PASSWORD: 'from env' }).password).toBe('from env');
    expect(parseKeeperArgs([...required, '--password', 'flag'], { MESHPARTY_ROOM_PASSWORD: 'from env' }).password).toBe('flag');
    expect(parseKeeperArgs(required, {}).password).toBeUndefined();
  });

  it('an empty one, from the flag or the environment, is bad-argument with the usage line', () => {
    for (const [argv, env] of [
      [[...required, '--password', ''], {}],
      [required, { MESHPARTY_ROOM_PASSWORD: '' }],
    ] as const) {
      expect(() => parseKeeperArgs([...argv], env), JSON.stringify({ argv, env })).toThrow(
        expect.objectContaining({ code: 'bad-argument', message: expect.stringMatching(/--password \(or MESHPARTY_ROOM_PASSWORD\) is empty[^]*usage: meshparty keeper/) }),
      );
    }
  });
});

describe('keeper CLI process with the password in its environment', () => {
  let relay: SignalingServer | undefined;
  let dir: string | undefined;
  let keeper: CapturedProcess | undefined;
  let peer: Room | undefined;
  afterAll(async () => {
    keeper?.child.kill('SIGKILL');
    await peer?.leave();
    await relay?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects to a peer of the room with that password, which is not on its command line', async () => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    dir = mkdtempSync(join(tmpdir(), 'mp-keeper-pw-'));
    const password = 'correct horse battery staple';
    keeper = spawnNode(['bin/meshparty.js', 'keeper', '--relay', relay.address.url, '--room', 'secret-room', '--dir', dir, '--fsync', 'never'], {
      cwd: root,
      env: { ...process.env, MESHPARTY_ROOM_PASSWORD: password },
    });
    await keeper.waitForOutput((out) => out.includes('keeping secret-room'), 'the keeper joined', 30_000);
    expect(readFileSync(`/proc/${keeper.child.pid}/cmdline`, 'utf8')).not.toContain(password);

    const errors: string[] = [];
    peer = await joinRoom({ relay: relay.address.url, room: 'secret-room', password, wrtc: await nodeWebRtc('wrtc'), WebSocket, logger: { debug: () => {}, warn: () => {} } });
    peer.on('error', (err) => errors.push(err.code));
    // Without the password the keeper would answer with "cannot decrypt": wrong-password here.
    await waitFor(() => peer!.peers.size === 1 || errors.length > 0, 'the peer connected to the keeper (or failed)', 30_000);
    expect(errors).toEqual([]);
    expect(peer.peers.size).toBe(1);
  }, 60_000);
});
