/**
 * joinRoom's promise: resolves once the relay has let us in, rejects with a clear
 * MeshpartyError code when it cannot (unreachable relay, full room, refused token, no
 * WebRTC, bad arguments) and leaves nothing running behind. The happy path runs on each
 * Node WebRTC engine; the refusals happen before any WebRTC, so they run on one.
 */
import { createServer, type AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createRoomToken, createSignalingServer, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { joinRoom, type JoinRoomOptions } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import { freePort, waitFor } from '../support/net.js';
import { NODE_WEBRTC_ENGINES, nodeWebRtc } from '../support/node-webrtc.js';

const wrtc = await nodeWebRtc('wrtc');

const quiet = { debug: () => {}, warn: () => {} };

describe('joinRoom', () => {
  const relays: SignalingServer[] = [];
  const rooms: Room[] = [];
  afterEach(async () => {
    await Promise.all(rooms.splice(0).map((r) => r.leave()));
    await Promise.all(relays.splice(0).map((r) => r.close()));
  });

  async function relay(options: Parameters<typeof createSignalingServer>[0] = {}) {
    const r = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger, ...options });
    relays.push(r);
    return r;
  }
  const join = async (o: Partial<JoinRoomOptions> & { relay: string }) => {
    const room = await joinRoom({ room: 'j', wrtc, WebSocket, logger: quiet, backoff: { initialMs: 20, maxMs: 50 }, ...o });
    rooms.push(room);
    return room;
  };

  it.each(NODE_WEBRTC_ENGINES)('resolves joined (selfId set, status connected) and the room works (%s)', async (engine) => {
    const r = await relay();
    const impl = await nodeWebRtc(engine);
    const a = await join({ relay: r.address.url, wrtc: impl });
    expect(a.status).toBe('connected');
    expect(a.selfId).toMatch(/^[A-Za-z0-9_-]+$/);
    const b = await join({ relay: r.address.url, wrtc: impl });
    await waitFor(() => a.peers.has(b.selfId) && b.peers.has(a.selfId), 'a and b see each other', 30_000);
    const got = new Promise<string>((res) => b.channel('hello').on('message', ({ data }) => res(new TextDecoder().decode(data))));
    await a.channel('hello').send(b.selfId, new TextEncoder().encode(`hi over ${engine}`));
    expect(await got).toBe(`hi over ${engine}`);
  });

  it('rejects relay-unreachable after connectAttempts when nothing listens', async () => {
    const port = await freePort();
    await expect(join({ relay: `ws://127.0.0.1:${port}`, connectAttempts: 3 })).rejects.toMatchObject({ code: 'relay-unreachable', detail: { attempts: 3 } });
  });

  it('rejects aborted when its signal aborts, and stops trying the relay', async () => {
    // A TCP server that counts connection attempts and answers none of them with a relay.
    let attempts = 0;
    const server = createServer((socket) => {
      attempts++;
      socket.destroy();
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    try {
      const { port } = server.address() as AddressInfo;
      const controller = new AbortController();
      const joining = join({ relay: `ws://127.0.0.1:${port}`, connectAttempts: 1000, signal: controller.signal });
      await waitFor(() => attempts >= 2, 'the relay client retrying', 10_000);
      const abortedAt = Date.now();
      controller.abort('user gave up');
      await expect(joining).rejects.toMatchObject({ code: 'aborted', detail: { reason: 'user gave up' } });
      expect(Date.now() - abortedAt).toBeLessThan(1000);
      const after = attempts;
      await new Promise((r) => setTimeout(r, 500)); // 10x the backoff's longest delay here
      expect(attempts).toBe(after);
      // Already aborted: rejected before any connection is made.
      await expect(join({ relay: `ws://127.0.0.1:${port}`, signal: AbortSignal.abort('no') })).rejects.toMatchObject({ code: 'aborted', detail: { reason: 'no' } });
      await new Promise((r) => setTimeout(r, 200));
      expect(attempts).toBe(after);
    } finally {
      await new Promise((res) => server.close(res));
    }
  });

  it('an abort after the join has resolved changes nothing', async () => {
    const r = await relay();
    const controller = new AbortController();
    const a = await join({ relay: r.address.url, signal: controller.signal });
    controller.abort();
    await new Promise((res) => setTimeout(res, 100));
    expect(a.status).toBe('connected');
  });

  it('rejects room-full from the relay, and from maxPeers when the room already has that many', async () => {
    const small = await relay({ maxPeersPerRoom: 1 });
    await join({ relay: small.address.url });
    await expect(join({ relay: small.address.url })).rejects.toMatchObject({ code: 'room-full' });

    const big = await relay();
    await join({ relay: big.address.url, maxPeers: 2 });
    await join({ relay: big.address.url, maxPeers: 2 });
    await expect(join({ relay: big.address.url, maxPeers: 2 })).rejects.toMatchObject({ code: 'room-full' });
  });

  it('rejects refused tokens with the relay code, and admits a valid one', async () => {
    const r = await relay({ secret: 's3cret' });
    await expect(join({ relay: r.address.url })).rejects.toMatchObject({ code: 'token-required' });
    await expect(join({ relay: r.address.url, token: 'x.y' })).rejects.toMatchObject({ code: 'token-invalid' });
    const ok = await join({ relay: r.address.url, token: createRoomToken({ secret: 's3cret', room: 'j', expiresInSeconds: 60 }) });
    expect(ok.status).toBe('connected');
  });

  it('rejects bad arguments and a missing WebRTC up front', async () => {
    await expect(joinRoom({ relay: 'http://nope', room: 'j', wrtc, WebSocket })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(joinRoom({ relay: 'ws://127.0.0.1:1', room: '', wrtc, WebSocket })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(joinRoom({ relay: 'ws://127.0.0.1:1', room: 'j', WebSocket })).rejects.toMatchObject({ code: 'webrtc-unsupported' });
  });
});
