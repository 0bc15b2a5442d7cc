/**
 * joinRoom's promise: resolves once the relay has let us in, rejects with a clear
 * MeshpartyError code when it cannot (unreachable relay, full room, refused token, no
 * WebRTC, bad arguments) and leaves nothing running behind. A relay that refuses the
 * connection itself (full, too many from one address) is retried, and its code survives
 * into `relay-unreachable`; once joined, such refusals are `relay-refused` events. The
 * happy path runs on each Node WebRTC engine; the refusals happen before any WebRTC, so
 * they run on one.
 */
import { createServer, type AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createRoomToken, createSignalingServer, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { shouldInitiate } from '../../src/mesh/glare.js';
import { joinRoom, type JoinRoomOptions } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import { ManualClock } from '../../src/util/clock.js';
import type { MeshpartyError } from '../../src/util/errors.js';
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

  it.each(NODE_WEBRTC_ENGINES)("what a 'leaving' listener sends reaches the peer before it hears we left (%s)", async (engine) => {
    const r = await relay();
    const impl = await nodeWebRtc(engine);
    const a = await join({ relay: r.address.url, wrtc: impl });
    const b = await join({ relay: r.address.url, wrtc: impl });
    await waitFor(() => a.peers.has(b.selfId) && b.peers.has(a.selfId), 'a and b see each other', 30_000);
    const seen: string[] = [];
    b.channel('last-words').on('message', ({ data }) => seen.push(new TextDecoder().decode(data)));
    b.on('peer-left', ({ id, reason }) => id === a.selfId && seen.push(`left: ${reason}`));
    const words = a.channel('last-words');
    a.on('leaving', () => {
      for (let i = 0; i < 20; i++) void words.send(b.selfId, new TextEncoder().encode(`word ${i}`)).catch(() => {});
    });
    await a.leave();
    await waitFor(() => seen.some((s) => s.startsWith('left')), 'b hears a left', 10_000);
    expect(seen).toEqual([...Array.from({ length: 20 }, (_, i) => `word ${i}`), 'left: left']);
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

  it('a crashed peer rejoining with its fixed peerId and resumeKey gets its id back; another key does not', async () => {
    const r = await relay();
    const key = 'kept-with-the-app-data-0123';
    // The crashed process: it joined and then lost its connection without a close frame
    // (its last join is what the relay remembers it by).
    const crashed = new WebSocket(r.address.url);
    await new Promise((res) => crashed.once('open', res));
    crashed.send(JSON.stringify({ type: 'join', v: 1, room: 'j', peerId: 'desk-7', resumeKey: key }));
    await new Promise((res) => crashed.once('message', res));
    crashed.terminate();
    await waitFor(() => r.metrics().connections === 0, 'the relay saw the connection go');
    await expect(join({ relay: r.address.url, peerId: 'desk-7', resumeKey: 'someone-else-0123456789' })).rejects.toMatchObject({ code: 'peer-id-taken' });
    const back = await join({ relay: r.address.url, peerId: 'desk-7', resumeKey: key });
    expect(back.selfId).toBe('desk-7');
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

  /** The relay refusals of a whole connection, and relay limits that cause each (1 slot, taken by {@link occupy}). */
  const CONNECTION_REFUSALS = [
    { code: 'server-full', limits: { maxConnections: 1 } },
    { code: 'too-many-connections-from-ip', limits: { maxConnectionsPerIp: 1 } },
  ] as const;

  async function occupy(r: SignalingServer): Promise<WebSocket> {
    const ws = new WebSocket(r.address.url);
    await new Promise((res, rej) => ws.once('open', res).once('error', rej));
    expect(r.metrics().connections).toBe(1);
    return ws;
  }

  it.each(CONNECTION_REFUSALS)('rejects relay-unreachable with detail.lastRefusal $code when the relay refuses every attempt', async ({ code, limits }) => {
    const r = await relay(limits);
    await occupy(r);
    const err = await join({ relay: r.address.url, connectAttempts: 3 }).then(
      () => undefined,
      (e: MeshpartyError) => e,
    );
    expect(err).toMatchObject({ code: 'relay-unreachable', detail: { attempts: 3, lastRefusal: code } });
    expect(err!.message).toContain(code);
    expect(r.metrics().rejections[code]).toBe(3);
  });

  it.each(CONNECTION_REFUSALS)('keeps retrying a relay that refuses with $code, and resolves once capacity frees up', async ({ code, limits }) => {
    const r = await relay(limits);
    const blocker = await occupy(r);
    const joining = join({ relay: r.address.url, connectAttempts: 1000 });
    await waitFor(() => (r.metrics().rejections[code] ?? 0) >= 3, 'refused attempts', 10_000);
    blocker.close();
    const room = await joining;
    expect(room.status).toBe('connected');
  });

  it.each(CONNECTION_REFUSALS)('tells onRelayRefused of each $code while joining (retryInMs, url), and nothing after the join', async ({ code, limits }) => {
    const port = await freePort();
    let r = await relay({ port, ...limits });
    let blocker = await occupy(r);
    // The room's retries on a clock the test moves, so the relay can be filled before each.
    const clock = new ManualClock();
    const heard: MeshpartyError[] = [];
    let throws = true;
    const joining = join({
      relay: r.address.url,
      clock,
      connectAttempts: 1000,
      backoff: { initialMs: 100, maxMs: 400, jitter: 0 },
      onRelayRefused: (err) => {
        heard.push(err);
        // A callback that throws must not break the join.
        if (throws) throw new Error('app bug');
      },
    });
    await waitFor(() => heard.length === 1, 'the first refusal, heard while joining');
    clock.advance(100);
    await waitFor(() => heard.length === 2, 'the second refusal');
    throws = false;
    expect(heard.map((e) => [e.code, e.detail?.retryInMs, e.detail?.url])).toEqual([
      [code, 100, r.address.url],
      [code, 200, r.address.url],
    ]);
    blocker.close();
    await waitFor(() => r.metrics().connections === 0, 'the slot freed');
    clock.advance(400);
    const room = await joining;
    expect(room.status).toBe('connected');

    // Once joined, a refusal is the room's event, not the callback's.
    const events: MeshpartyError[] = [];
    room.on('relay-refused', (e) => events.push(e));
    await r.close();
    relays.splice(relays.indexOf(r), 1);
    await waitFor(() => room.status === 'reconnecting', 'reconnecting');
    r = await relay({ port, ...limits });
    blocker = await occupy(r);
    // The backoff has not started over (the join lasted less than maxMs): the retry is at most maxMs away.
    clock.advance(400);
    await waitFor(() => events.length === 1, 'a refusal after the join, as an event');
    expect(events[0]!.code).toBe(code);
    expect(heard).toHaveLength(2);
  });

  it.each(CONNECTION_REFUSALS)('once joined, $code while rejoining a restarted relay is a relay-refused event, then connected again', async ({ code, limits }) => {
    const port = await freePort();
    let r = await relay({ port });
    // The room's timers on a clock the test moves: the relay is full before any retry.
    const clock = new ManualClock();
    const room = await join({ relay: r.address.url, clock, backoff: { initialMs: 100, maxMs: 400, jitter: 0 } });
    const selfId = room.selfId;
    const refused: MeshpartyError[] = [];
    const statuses: string[] = [];
    const errors: MeshpartyError[] = [];
    const offRefused = room.on('relay-refused', (e) => refused.push(e));
    room.on('status', (s) => statuses.push(s));
    room.on('error', (e) => errors.push(e));

    await r.close();
    relays.splice(relays.indexOf(r), 1);
    await waitFor(() => room.status === 'reconnecting', 'reconnecting');
    r = await relay({ port, ...limits });
    const blocker = await occupy(r);
    clock.advance(100);
    await waitFor(() => refused.length === 1, 'first refusal');
    clock.advance(200);
    await waitFor(() => refused.length === 2, 'second refusal');
    expect(refused.map((e) => [e.code, e.detail?.retryInMs, e.detail?.url])).toEqual([
      [code, 200, r.address.url],
      [code, 400, r.address.url],
    ]);
    expect(room.status).toBe('reconnecting');
    expect(errors).toEqual([]);

    // Unsubscribed: a third refusal is not delivered to it.
    offRefused();
    const seenThird = new Promise<MeshpartyError>((res) => room.on('relay-refused', res));
    clock.advance(400);
    expect((await seenThird).code).toBe(code);
    expect(refused).toHaveLength(2);

    blocker.close();
    await waitFor(() => r.metrics().connections === 0, 'the slot freed');
    clock.advance(400);
    await waitFor(() => room.status === 'connected', 'rejoined');
    expect(room.selfId).toBe(selfId);
    expect(statuses).toEqual(['reconnecting', 'connected']);
    expect(errors).toEqual([]);
  });

  it('a peer connection that cannot be created during the join is reported once joined, not a failed join; it connects once it can', async () => {
    const r = await relay();
    const a = await join({ relay: r.address.url, peerId: 'peer-a' });
    // An id from which b initiates towards a: b creates that connection during its join.
    const bId = Array.from({ length: 50 }, (_, i) => `peer-b${i}`).find((id) => shouldInitiate(id, 'peer-a'))!;
    // WebRTC turned off (a browser setting or extension), until the test turns it on.
    let blocked = true;
    const Native = wrtc.RTCPeerConnection;
    const Switched = function (...args: unknown[]) {
      if (blocked) throw new Error('WebRTC is turned off');
      return new (Native as new (...a: unknown[]) => object)(...args);
    };
    const b = await join({ relay: r.address.url, peerId: bId, wrtc: { ...wrtc, RTCPeerConnection: Switched as unknown as typeof Native } });
    expect(b.status).toBe('connected');
    // The failure during the join happened before anyone could listen; b tries again, so the app hears of it.
    const errors: string[] = [];
    b.on('error', (e) => errors.push(e.code));
    await waitFor(() => errors.length > 0, 'transport-failed reported once joined', 10_000);
    expect(errors[0]).toBe('transport-failed');
    expect(b.status).toBe('connected');
    blocked = false;
    await waitFor(() => a.peers.has(bId) && b.peers.has('peer-a'), 'a and b connected once connections can be made', 30_000);
  });

  it('rejects bad arguments and a missing WebRTC up front', async () => {
    await expect(joinRoom({ relay: 'http://nope', room: 'j', wrtc, WebSocket })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(joinRoom({ relay: 'ws://127.0.0.1:1', room: '', wrtc, WebSocket })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(joinRoom({ relay: 'ws://127.0.0.1:1', room: 'j', WebSocket })).rejects.toMatchObject({ code: 'webrtc-unsupported' });
  });
});
