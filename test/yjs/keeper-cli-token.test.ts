/**
 * `meshparty keeper` against a relay that requires room tokens: with the relay's secret in
 * MESHPARTY_RELAY_SECRET it signs its own token for each room it joins (it could not join
 * such a relay at all: token-required, exit 1), and a peer holding a token for that room
 * reaches it. The secret never appears on its command line.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { createRoomToken, createSignalingServer, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { joinRoom } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import { parseKeeperArgs, RELAY_SECRET_ENV } from '../../src/yjs/keeper/cli.js';
import { waitFor } from '../support/net.js';
import { type CapturedProcess, spawnNode } from '../support/node-process.js';
import { nodeWebRtc } from '../support/node-webrtc.js';

const root = resolve(import.meta.dirname, '../..');
const required = ['--relay', 'ws://127.0.0.1:1', '--room', 'r', '--dir', '/tmp/x'];

describe('keeper CLI: the relay secret', () => {
  it('comes from MESHPARTY_RELAY_SECRET only, and an empty one is bad-argument', () => {
    expect(RELAY_SECRET_ENV).toBe('MESHPARTY_RELAY_SECRET');
    expect(parseKeeperArgs(required, { MESHPARTY_RELAY_SECRET: 's3cret' }).relaySecret).toBe('s3cret');
    expect(parseKeeperArgs(required, {}).relaySecret).toBeUndefined();
    expect(() => parseKeeperArgs([...required, '--relay-secret', 'x'], {})).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => parseKeeperArgs(required, { MESHPARTY_RELAY_SECRET: '' })).toThrow(
      expect.objectContaining({ code: 'bad-argument', message: expect.stringMatching(/MESHPARTY_RELAY_SECRET is empty/) }),
    );
  });
});

describe('keeper CLI process against a relay that requires room tokens', () => {
  let relay: SignalingServer | undefined;
  const dirs: string[] = [];
  const keepers: CapturedProcess[] = [];
  let peer: Room | undefined;
  afterAll(async () => {
    for (const k of keepers) k.child.kill('SIGKILL');
    await peer?.leave();
    await relay?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const keeper = (env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-token-'));
    dirs.push(dir);
    const k = spawnNode(['bin/meshparty.js', 'keeper', '--relay', relay!.address.url, '--room', 'ops-notes', '--dir', dir, '--fsync', 'never'], { cwd: root, env: { ...process.env, ...env } });
    keepers.push(k);
    return k;
  };

  it('without the secret it is refused (token-required); with it, it joins and a peer with a token reaches it', async () => {
    const secret = 'relay secret for the keeper test';
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger, secret });

    const refused = keeper({});
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toContain('[token-required]');

    const k = keeper({ MESHPARTY_RELAY_SECRET: secret });
    await k.waitForOutput((out) => out.includes('keeping ops-notes'), 'the keeper joined', 30_000);
    expect(readFileSync(`/proc/${k.child.pid}/cmdline`, 'utf8')).not.toContain(secret);

    const token = createRoomToken({ secret, room: 'ops-notes', expiresInSeconds: 600 });
    peer = await joinRoom({ relay: relay.address.url, room: 'ops-notes', token, wrtc: await nodeWebRtc('wrtc'), WebSocket, logger: { debug: () => {}, warn: () => {} } });
    await waitFor(() => peer!.peers.size === 1, 'the peer connected to the keeper', 30_000);
    expect(peer.peers.size).toBe(1);
  }, 90_000);
});
