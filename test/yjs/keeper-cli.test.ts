/**
 * `meshparty keeper`'s choice of Node WebRTC (`--webrtc`, default @roamhq/wrtc when
 * it loads, else node-datachannel, else a `webrtc-unsupported` error), and that the keeper
 * process, connected to a peer over either engine, exits 0 on SIGINT and SIGTERM and
 * releases its directory's lock. (A signal while it starts: keeper-cli-stop.test.ts.)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignalingServer, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { joinRoom } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import { loadNodeWebRtc } from '../../src/transport/node-webrtc.js';
import { parseKeeperArgs } from '../../src/yjs/keeper/cli.js';
import { waitFor } from '../support/net.js';
import { type CapturedProcess, spawnNode } from '../support/node-process.js';
import { type NodeWebRtcEngine, nodeWebRtc } from '../support/node-webrtc.js';

const root = resolve(import.meta.dirname, '../..');
const required = ['--relay', 'ws://127.0.0.1:1', '--room', 'r', '--dir', '/tmp/x'];

describe('keeper CLI: --webrtc', () => {
  it('parses --webrtc; without it the choice is left to loading', () => {
    expect(parseKeeperArgs(required).webrtc).toBeUndefined();
    expect(parseKeeperArgs([...required, '--webrtc', 'wrtc']).webrtc).toBe('wrtc');
    expect(parseKeeperArgs([...required, '--webrtc', 'node-datachannel']).webrtc).toBe('node-datachannel');
    expect(() => parseKeeperArgs([...required, '--webrtc', 'werift'])).toThrow(/--webrtc must be wrtc or node-datachannel/);
  });

  it('rejects wrong arguments with the code bad-argument and the usage line', () => {
    const cases = [
      ['--room', 'r'], // --relay and --dir missing
      [...required, '--fsync', 'sometimes'],
      [...required, '--rooms', 'r2'], // a mistyped option
      [...required, '--dir'], // an option without its value
    ];
    for (const argv of cases) {
      expect(() => parseKeeperArgs(argv), argv.join(' ')).toThrow(expect.objectContaining({ code: 'bad-argument', message: expect.stringContaining('usage: meshparty keeper') }));
    }
  });

  it('loads @roamhq/wrtc by default, either engine when asked', async () => {
    const auto = await loadNodeWebRtc(undefined);
    expect(auto.engine).toBe('wrtc');
    expect(auto.wrtc.RTCPeerConnection).toBe((await import('@roamhq/wrtc')).default.RTCPeerConnection);
    const ndc = await loadNodeWebRtc('node-datachannel');
    expect(ndc.engine).toBe('node-datachannel');
    expect(typeof ndc.wrtc.RTCPeerConnection).toBe('function');
  });

  it('falls back to node-datachannel when @roamhq/wrtc does not load, and fails with webrtc-unsupported when neither does', async () => {
    const missing = (names: string[]) => async (specifier: string) => {
      if (names.includes(specifier)) throw new Error(`Cannot find package '${specifier}'`);
      return import(specifier);
    };
    expect((await loadNodeWebRtc(undefined, missing(['@roamhq/wrtc']))).engine).toBe('node-datachannel');
    const none = loadNodeWebRtc(undefined, missing(['node-datachannel/polyfill', '@roamhq/wrtc']));
    await expect(none).rejects.toMatchObject({ code: 'webrtc-unsupported', detail: { tried: ['@roamhq/wrtc', 'node-datachannel/polyfill'] } });
    await expect(none).rejects.toThrow(/@roamhq\/wrtc: Cannot find package.*node-datachannel\/polyfill: Cannot find package/);
    // Asked for one engine: no fallback to the other.
    await expect(loadNodeWebRtc('node-datachannel', missing(['node-datachannel/polyfill']))).rejects.toMatchObject({ code: 'webrtc-unsupported' });
  });
});

describe('keeper CLI process on each engine', () => {
  let relay: SignalingServer;
  const dirs: string[] = [];
  const rooms: Room[] = [];
  const keepers: CapturedProcess[] = [];
  beforeAll(async () => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
  });
  afterAll(async () => {
    for (const k of keepers) k.child.kill('SIGKILL');
    await Promise.all(rooms.map((r) => r.leave()));
    await relay?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  // One keeper per case, all at once: each joins its room, a peer connects to it over
  // real WebRTC, then the signal must end it with code 0.
  const cases: Array<{ flag: NodeWebRtcEngine | undefined; engine: NodeWebRtcEngine; signal: NodeJS.Signals }> = [
    { flag: undefined, engine: 'wrtc', signal: 'SIGINT' },
    { flag: 'node-datachannel', engine: 'node-datachannel', signal: 'SIGTERM' },
    { flag: 'wrtc', engine: 'wrtc', signal: 'SIGTERM' },
  ];

  it(`connects to a peer and exits 0 on the signal: ${cases.map((c) => `--webrtc ${c.flag ?? '(default)'} + ${c.signal}`).join(', ')}`, async () => {
    const runs = cases.map((c, i) => {
      const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-cli-'));
      dirs.push(dir);
      const args = ['bin/meshparty.js', 'keeper', '--relay', relay.address.url, '--room', `cli-${i}`, '--dir', dir, '--fsync', 'never'];
      const keeper = spawnNode(c.flag ? [...args, '--webrtc', c.flag] : args, { cwd: root });
      keepers.push(keeper);
      return { ...c, i, keeper, dir };
    });
    await Promise.all(
      runs.map(async ({ flag, engine, signal, i, keeper, dir }) => {
        await keeper.waitForOutput((out) => out.includes(`keeping cli-${i}`), `keeper ${i} joined`, 30_000);
        expect(keeper.stdout()).toContain(`WebRTC: ${engine}${flag ? '' : ' (default)'}`);
        // The peers in this process all run on wrtc: with two native WebRTC libraries
        // active in one process (each with its own TLS library and threads) the process
        // crashed now and then; one keeper connecting to them is a mixed pair, also tested.
        const peer = await joinRoom({ relay: relay.address.url, room: `cli-${i}`, wrtc: await nodeWebRtc('wrtc'), WebSocket, logger: { debug: () => {}, warn: () => {} } });
        rooms.push(peer);
        await waitFor(() => peer.peers.size === 1, `a peer connected to keeper ${i}`, 30_000);
        const sentAt = Date.now();
        keeper.child.kill(signal);
        const code = await Promise.race([keeper.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
        expect(code, `keeper ${i} (${engine}) after ${signal}: ended by ${keeper.child.signalCode ?? 'no signal'}; stderr: ${keeper.stderr()}`).toBe(0);
        console.log(`keeper on ${engine}: exited ${Date.now() - sentAt} ms after ${signal}`);
        expect(existsSync(join(dir, 'keeper.lock')), `keeper ${i} released its lock`).toBe(false);
        await waitFor(() => peer.peers.size === 0, `the peer of keeper ${i} saw it leave`, 10_000);
      }),
    );
  }, 120_000);
});
