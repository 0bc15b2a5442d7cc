/**
 * The relay client against a real relay started in-test on a free loopback port: joining,
 * addressed signals, reconnect with backoff and rejoin under the same id after the relay
 * restarts on the same port, fatal refusals surfacing as MeshpartyError codes, and the
 * relay refusing the connection itself (full, too many from one address): reported with
 * its code, retried with backoff, joined once capacity frees up.
 * A scripted fake relay covers what a real one never does (garbage frames, silence).
 */
import { createServer, type Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createRoomToken, createSignalingServer, silentLogger, type SignalingServer, type SignalingServerOptions } from '../../signaling/index.js';
import { createWebSocketSignaling, type WebSocketSignalingOptions } from '../../src/signaling-client/websocket-signaling.js';
import type { Signaling, SignalingStatus } from '../../src/signaling-client/types.js';
import { createRng } from '../../src/util/rng.js';
import { ManualClock, type Clock } from '../../src/util/clock.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { freePort, waitFor } from '../support/net.js';

const quiet = { warn: () => {} };
const fastBackoff = { initialMs: 30, maxMs: 200 };

/** A client plus everything it reported, for assertions. */
function observe(s: Signaling) {
  const seen = {
    joined: [] as Array<{ selfId: string; peers: string[]; fresh?: boolean }>,
    peerJoined: [] as string[],
    peerLeft: [] as string[],
    signals: [] as Array<{ from: string; data: unknown }>,
    statuses: [] as SignalingStatus[],
    errors: [] as MeshpartyError[],
    refused: [] as MeshpartyError[],
  };
  s.on('joined', (j) => seen.joined.push(j));
  s.on('peer-joined', (p) => seen.peerJoined.push(p));
  s.on('peer-left', (p) => seen.peerLeft.push(p));
  s.on('signal', (m) => seen.signals.push(m));
  s.on('status', (st) => seen.statuses.push(st));
  s.on('error', (e) => seen.errors.push(e));
  s.on('refused', (e) => seen.refused.push(e));
  return seen;
}

/** `ws`, counting the sockets the client opens (synchronously, as it opens them). */
function countingWebSocket() {
  let made = 0;
  class Counted extends WebSocket {
    constructor(url: string) {
      super(url);
      made++;
    }
  }
  return { WebSocket: Counted, made: () => made };
}

/** The relay refusals of a whole connection that a client retries, and relay limits that cause each. */
const CONNECTION_REFUSALS = [
  { code: 'server-full', limits: { maxConnections: 1 }, says: /relay is full/ },
  { code: 'too-many-connections-from-ip', limits: { maxConnectionsPerIp: 1 }, says: /too many connections from your address/ },
] as const;

/** Exact backoff (no jitter), on a ManualClock: the test decides when each retry happens. */
const exactBackoff = { initialMs: 100, maxMs: 400, jitter: 0 };

describe('WebSocket signaling against a real relay', () => {
  const relays: SignalingServer[] = [];
  const clients: Signaling[] = [];
  const servers: WebSocketServer[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(relays.splice(0).map((r) => r.close()));
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  async function relay(options: SignalingServerOptions = {}) {
    const r = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger, ...options });
    relays.push(r);
    return r;
  }

  function client(url: string, room: string, extra: Partial<WebSocketSignalingOptions> = {}) {
    const s = createWebSocketSignaling({ url, room, WebSocket, backoff: fastBackoff, random: createRng(7).next, logger: quiet, ...extra });
    clients.push(s);
    const seen = observe(s);
    s.join();
    return { s, seen };
  }

  it('joins, learns who is there, and sees others come and go', async () => {
    const r = await relay();
    const a = client(r.address.url, 'room-1');
    await waitFor(() => a.s.status === 'connected', 'a joined');
    expect(a.seen.joined).toHaveLength(1);
    expect(a.seen.joined[0]!.peers).toEqual([]);
    const aId = a.seen.joined[0]!.selfId;
    expect(aId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);

    const b = client(r.address.url, 'room-1');
    await waitFor(() => b.s.status === 'connected', 'b joined');
    const bId = b.seen.joined[0]!.selfId;
    expect(b.seen.joined[0]!.peers).toEqual([aId]);
    await waitFor(() => a.seen.peerJoined.includes(bId), 'a hears of b');
    expect(a.seen.statuses).toEqual(['connected']);

    b.s.close();
    await waitFor(() => a.seen.peerLeft.includes(bId), 'a hears b left');
    expect(b.s.status).toBe('closed');
  });

  it('delivers a signal only to the peer it is addressed to, stamped with the sender', async () => {
    const r = await relay();
    const [a, b, c] = [client(r.address.url, 'room-2'), client(r.address.url, 'room-2'), client(r.address.url, 'room-2')];
    await waitFor(() => [a, b, c].every((x) => x.s.status === 'connected'), 'all joined');
    const [aId, bId] = [a.seen.joined[0]!.selfId, b.seen.joined[0]!.selfId];
    a.s.sendSignal(bId, { type: 'offer', sdp: 'opaque' });
    c.s.sendSignal(aId, 'ciphertext-as-a-string');
    await waitFor(() => b.seen.signals.length === 1 && a.seen.signals.length === 1, 'signals delivered');
    expect(b.seen.signals[0]).toEqual({ from: aId, data: { type: 'offer', sdp: 'opaque' } });
    expect(a.seen.signals[0]!.data).toBe('ciphertext-as-a-string');
    // c was neither addressed nor did it get a copy; a second probe proves delivery had time to happen.
    a.s.sendSignal(bId, 'probe');
    await waitFor(() => b.seen.signals.length === 2, 'probe');
    expect(c.seen.signals).toEqual([]);
  });

  it('reconnects with backoff after the relay dies and rejoins under the same id when it is back on the same port', async () => {
    const port = await freePort();
    let r = await relay({ port });
    const a = client(r.address.url, 'room-3');
    const b = client(r.address.url, 'room-3');
    await waitFor(() => a.s.status === 'connected' && b.s.status === 'connected', 'both joined');
    const ids = [a.seen.joined[0]!.selfId, b.seen.joined[0]!.selfId];

    await r.close();
    relays.splice(relays.indexOf(r), 1);
    await waitFor(() => a.s.status === 'reconnecting' && b.s.status === 'reconnecting', 'both reconnecting');
    // Let a few attempts fail against the closed port (backoff keeps trying).
    await new Promise((res) => setTimeout(res, 300));
    expect(a.s.status).toBe('reconnecting');

    r = await relay({ port });
    await waitFor(() => a.s.status === 'connected' && b.s.status === 'connected', 'both rejoined', 10_000);
    expect(a.seen.joined.map((j) => j.selfId)).toEqual([ids[0], ids[0]]);
    // The first id was made up by the relay; the rejoin asked for it back.
    expect(a.seen.joined.map((j) => j.fresh)).toEqual([true, false]);
    expect(b.seen.joined.map((j) => j.selfId)).toEqual([ids[1], ids[1]]);
    expect(a.seen.statuses).toEqual(['connected', 'reconnecting', 'connected']);
    expect(r.metrics().connections).toBe(2);
    expect(r.metrics().rooms).toBe(1);
    // Signals flow again under the old ids.
    a.s.sendSignal(ids[1]!, 'after-restart');
    await waitFor(() => b.seen.signals.some((m) => m.data === 'after-restart' && m.from === ids[0]), 'signal after restart');
    expect(a.seen.errors).toEqual([]);
  });

  it('takes its id back at once from a half-dead connection the relay still holds (resume key), and the room hears nothing', async () => {
    // The relay's heartbeat (30 s) would not notice the first connection in this test.
    const r = await relay();
    const b = client(r.address.url, 'room-h');
    await waitFor(() => b.s.status === 'connected', 'b joined');
    // The first socket goes dark once joined: it reads nothing and its close is lost, so
    // the relay keeps it open, as with a connection cut somewhere on the way.
    const sockets: WebSocket[] = [];
    class HalfDead extends WebSocket {
      dark = false;
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
      override close(code?: number, reason?: string): void {
        if (!this.dark) super.close(code, reason);
      }
    }
    const a = client(r.address.url, 'room-h', { WebSocket: HalfDead, pingIntervalMs: 50, silenceTimeoutMs: 150 });
    await waitFor(() => a.s.status === 'connected', 'a joined');
    const aId = a.seen.joined[0]!.selfId;
    await waitFor(() => b.seen.peerJoined.includes(aId), 'b hears of a');
    const first = sockets[0] as HalfDead;
    first.dark = true;
    first.pause();
    try {
      await waitFor(() => a.seen.joined.length === 2, 'a rejoined', 3000);
      expect(a.seen.joined[1]).toMatchObject({ selfId: aId, peers: [b.seen.joined[0]!.selfId] });
      expect(a.seen.errors).toEqual([]);
      expect(r.metrics().rejections['peer-id-taken'] ?? 0).toBe(0);
      // The relay replaced the old connection; b was told neither a left nor a joined again.
      await waitFor(() => r.metrics().connections === 2, 'the old connection closed by the relay');
      expect(b.seen.peerLeft).toEqual([]);
      expect(b.seen.peerJoined).toEqual([aId]);
      b.s.sendSignal(aId, 'still there?');
      await waitFor(() => a.seen.signals.some((m) => m.data === 'still there?'), 'a signal over the new connection');
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  });

  it('stops with peer-id-resumed, not a tug of war, when another live client joins with its id and resume key', async () => {
    const r = await relay();
    const same = { peerId: 'shared-id', resumeKey: 'the-same-key-in-two-tabs' };
    const first = client(r.address.url, 'room-t', same);
    await waitFor(() => first.s.status === 'connected', 'first joined');
    const second = client(r.address.url, 'room-t', same);
    await waitFor(() => second.s.status === 'connected', 'second joined');
    await waitFor(() => first.s.status === 'closed', 'the first stops');
    expect(first.seen.errors.map((e) => e.code)).toEqual(['peer-id-resumed']);
    // Well past the fast backoff's retries: the second keeps the id, nobody takes it back.
    await new Promise((res) => setTimeout(res, 400));
    expect(second.s.status).toBe('connected');
    expect(second.seen.errors).toEqual([]);
    expect(second.seen.joined).toHaveLength(1);
    expect(first.seen.joined).toHaveLength(1);
  });

  it('gives up with relay-unreachable after maxInitialAttempts when nothing listens', async () => {
    const port = await freePort();
    const a = client(`ws://127.0.0.1:${port}`, 'room-4', { maxInitialAttempts: 3 });
    await waitFor(() => a.s.status === 'closed', 'gave up');
    expect(a.seen.errors.map((e) => e.code)).toEqual(['relay-unreachable']);
    expect(a.seen.errors[0]!.detail).toMatchObject({ attempts: 3 });
  });

  it('surfaces fatal refusals with the relay code and stops: room-full, token errors, peer-id-taken', async () => {
    const small = await relay({ maxPeersPerRoom: 1 });
    const first = client(small.address.url, 'full');
    await waitFor(() => first.s.status === 'connected', 'first joined');
    const second = client(small.address.url, 'full');
    await waitFor(() => second.s.status === 'closed', 'second refused');
    expect(second.seen.errors.map((e) => e.code)).toEqual(['room-full']);

    const guarded = await relay({ secret: 'test-secret' });
    const none = client(guarded.address.url, 'vip');
    const forged = client(guarded.address.url, 'vip', { token: 'forged.token' });
    const otherRoom = client(guarded.address.url, 'vip', { token: createRoomToken({ secret: 'test-secret', room: 'elsewhere', expiresInSeconds: 60 }) });
    const good = client(guarded.address.url, 'vip', { token: createRoomToken({ secret: 'test-secret', room: 'vip', expiresInSeconds: 60 }) });
    await waitFor(() => [none, forged, otherRoom].every((c) => c.s.status === 'closed') && good.s.status === 'connected', 'token outcomes');
    expect(none.seen.errors.map((e) => e.code)).toEqual(['token-required']);
    expect(forged.seen.errors.map((e) => e.code)).toEqual(['token-invalid']);
    expect(otherRoom.seen.errors.map((e) => e.code)).toEqual(['token-wrong-room']);
    expect(good.seen.errors).toEqual([]);

    const holder = client(small.address.url, 'ids', { peerId: 'alice' });
    await waitFor(() => holder.s.status === 'connected', 'alice joined');
    const impostor = client(small.address.url, 'ids2', { peerId: 'alice' }); // another room: fine
    await waitFor(() => impostor.s.status === 'connected', 'alice in another room');
    const twin = client((await relay()).address.url, 'ids', { peerId: 'bob' });
    await waitFor(() => twin.s.status === 'connected', 'bob joined');
    const clash = client(relays.at(-1)!.address.url, 'ids', { peerId: 'bob' });
    await waitFor(() => clash.s.status === 'closed', 'clash refused');
    expect(clash.seen.errors.map((e) => e.code)).toEqual(['peer-id-taken']);
  });

  /** Take the relay's one connection slot (both limits above are 1, from 127.0.0.1) with a plain socket. */
  async function occupy(r: SignalingServer): Promise<WebSocket> {
    const ws = new WebSocket(r.address.url);
    await new Promise((res, rej) => ws.once('open', res).once('error', rej));
    expect(r.metrics().connections).toBe(1);
    return ws;
  }

  async function free(r: SignalingServer, blocker: WebSocket): Promise<void> {
    blocker.close();
    await waitFor(() => r.metrics().connections === 0, 'the slot freed');
  }

  /**
   * Drive `count` refused attempts of a client on `clock` (the first one already made or
   * due now): each is reported with `code` and the relay's words, and the next socket is
   * opened exactly when its `retryInMs` has passed, not a millisecond before.
   */
  async function expectRefusedWithBackoff(
    a: { seen: ReturnType<typeof observe> },
    counted: { made(): number },
    clock: ManualClock,
    refusal: (typeof CONNECTION_REFUSALS)[number],
    count: number,
  ): Promise<number[]> {
    const delays: number[] = [];
    const before = a.seen.refused.length;
    for (let i = 0; i < count; i++) {
      await waitFor(() => a.seen.refused.length === before + i + 1, `refusal ${i + 1}`);
      const err = a.seen.refused.at(-1)!;
      expect(err.code).toBe(refusal.code);
      expect(err.message).toMatch(refusal.says);
      const wait = err.detail!.retryInMs as number;
      delays.push(wait);
      const made = counted.made();
      clock.advance(wait - 1);
      expect(counted.made()).toBe(made); // no attempt before the backoff delay is over
      clock.advance(1);
      expect(counted.made()).toBe(made + 1);
    }
    return delays;
  }

  it.each(CONNECTION_REFUSALS)('while joining, $code is reported with its code, retried with backoff, and joined once capacity frees up', async (refusal) => {
    const r = await relay(refusal.limits);
    const blocker = await occupy(r);
    const clock = new ManualClock();
    const counted = countingWebSocket();
    const a = client(r.address.url, 'room-full-relay', { clock, WebSocket: counted.WebSocket, backoff: exactBackoff });
    const delays = await expectRefusedWithBackoff(a, counted, clock, refusal, 4);
    expect(delays).toEqual([100, 200, 400, 400]);
    expect(a.s.status).toBe('connecting');
    expect(a.seen.errors).toEqual([]);

    // The fifth attempt is refused too; then capacity frees up and the next one joins.
    await waitFor(() => a.seen.refused.length === 5, 'fifth refusal');
    expect(r.metrics().rejections[refusal.code]).toBe(5);
    await free(r, blocker);
    clock.advance(a.seen.refused.at(-1)!.detail!.retryInMs as number);
    await waitFor(() => a.s.status === 'connected', 'joined once the slot is free');
    expect(counted.made()).toBe(6);
    expect(a.seen.statuses).toEqual(['connected']);
    expect(a.seen.errors).toEqual([]);
  });

  it.each(CONNECTION_REFUSALS)('while joining, giving up after maxInitialAttempts keeps $code in relay-unreachable', async (refusal) => {
    const r = await relay(refusal.limits);
    await occupy(r);
    const a = client(r.address.url, 'room-gives-up', { maxInitialAttempts: 3 });
    await waitFor(() => a.s.status === 'closed', 'gave up');
    expect(a.seen.errors.map((e) => e.code)).toEqual(['relay-unreachable']);
    expect(a.seen.errors[0]!.detail).toEqual({ url: r.address.url, attempts: 3, lastRefusal: refusal.code });
    expect(a.seen.errors[0]!.message).toMatch(refusal.code);
    expect(a.seen.errors[0]!.message).toMatch(refusal.says);
    // The two attempts before the last were reported as they were refused.
    expect(a.seen.refused.map((e) => e.code)).toEqual([refusal.code, refusal.code]);
    expect(r.metrics().rejections[refusal.code]).toBe(3);
  });

  it.each(CONNECTION_REFUSALS)('after a join, $code while rejoining a restarted relay is reported, retried with backoff, and the rejoin keeps the id', async (refusal) => {
    const port = await freePort();
    let r = await relay({ port });
    const clock = new ManualClock();
    const counted = countingWebSocket();
    const a = client(r.address.url, 'room-restart-full', { clock, WebSocket: counted.WebSocket, backoff: exactBackoff });
    await waitFor(() => a.s.status === 'connected', 'joined');
    const id = a.seen.joined[0]!.selfId;

    await r.close();
    relays.splice(relays.indexOf(r), 1);
    await waitFor(() => a.s.status === 'reconnecting', 'reconnecting');
    // Back, and full before the client's retry (its clock holds it).
    r = await relay({ port, ...refusal.limits });
    const blocker = await occupy(r);
    expect(counted.made()).toBe(1);
    clock.advance(100); // the first retry after a lost connection
    expect(counted.made()).toBe(2);
    const delays = await expectRefusedWithBackoff(a, counted, clock, refusal, 3);
    expect(delays).toEqual([200, 400, 400]);
    expect(a.s.status).toBe('reconnecting');
    expect(a.seen.errors).toEqual([]);

    await waitFor(() => a.seen.refused.length === 4, 'fourth refusal');
    await free(r, blocker);
    clock.advance(a.seen.refused.at(-1)!.detail!.retryInMs as number);
    await waitFor(() => a.s.status === 'connected', 'rejoined once the slot is free');
    expect(a.seen.joined.map((j) => j.selfId)).toEqual([id, id]);
    expect(a.seen.statuses).toEqual(['connected', 'reconnecting', 'connected']);
    expect(a.seen.errors).toEqual([]);
  });

  it('while joining, a join over the join rate of its address is reported as rate-limited, retried with backoff without using up the tries, and joins once the rate allows', async () => {
    let relayNow = 0;
    const r = await relay({ joinsPerSecond: 1, joinBurst: 1, now: () => relayNow });
    const first = client(r.address.url, 'rate-1');
    await waitFor(() => first.s.status === 'connected', 'the first join takes the burst');
    const clock = new ManualClock();
    const counted = countingWebSocket();
    const warned: string[] = [];
    const a = client(r.address.url, 'rate-2', {
      clock,
      WebSocket: counted.WebSocket,
      backoff: exactBackoff,
      maxInitialAttempts: 2,
      logger: { warn: (m: string) => warned.push(m) },
    });
    // Refused three times, past maxInitialAttempts: the relay is up, only its rate says wait.
    for (const [i, wait] of [100, 200, 400].entries()) {
      await waitFor(() => a.seen.refused.length === i + 1, `refusal ${i + 1}`);
      expect([a.seen.refused[i]!.code, a.seen.refused[i]!.detail!.retryInMs]).toEqual(['rate-limited', wait]);
      if (i === 2) relayNow += 1000; // one more join allowed for the address
      const made = counted.made();
      clock.advance(wait);
      expect(counted.made()).toBe(made + 1);
    }
    await waitFor(() => a.s.status === 'connected', 'joined once the rate allows');
    expect(a.seen.errors).toEqual([]);
    expect(warned.filter((m) => /sending slower/.test(m))).toEqual([]); // the message pacer was not slowed
  });

  it('reads a refusal from the close alone when its error frame is lost (close 1013, reason server-full)', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    servers.push(wss);
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => ws.close(1013, 'server-full'));
    const a = client(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, 'room-close', { maxInitialAttempts: 2 });
    await waitFor(() => a.s.status === 'closed', 'gave up');
    expect(a.seen.refused.map((e) => e.code)).toEqual(['server-full']);
    expect(a.seen.errors.map((e) => [e.code, e.detail?.lastRefusal])).toEqual([['relay-unreachable', 'server-full']]);
  });

  /** A scripted relay: answers `join` with `reply(join)` and records what it saw. */
  async function fakeRelay(reply: (join: Record<string, unknown>, ws: WebSocket) => void) {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    servers.push(wss);
    await new Promise((r) => wss.once('listening', r));
    const frames: Array<Record<string, unknown>> = [];
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as Record<string, unknown>;
        frames.push(m);
        if (m.type === 'join') reply(m, ws);
      });
    });
    const port = (wss.address() as { port: number }).port;
    return { url: `ws://127.0.0.1:${port}`, frames, connections: () => connections };
  }

  it('reports version-mismatch as fatal and sends join with v, room and token', async () => {
    const fake = await fakeRelay((_j, ws) => ws.send(JSON.stringify({ type: 'error', code: 'version-mismatch', message: 'v2 only' })));
    const a = client(fake.url, 'room-v', { token: 't0k' });
    await waitFor(() => a.s.status === 'closed', 'refused');
    expect(a.seen.errors.map((e) => e.code)).toEqual(['version-mismatch']);
    expect(fake.frames[0]).toEqual({ type: 'join', v: 1, room: 'room-v', token: 't0k', resumeKey: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
  });

  it('drops garbage frames from the relay without throwing, then works normally', async () => {
    const fake = await fakeRelay((j, ws) => {
      for (const junk of ['not json', '42', 'null', '{"no":"type"}', '{"type":"joined","room":"room-g"}', '{"type":"signal","room":"room-g"}', '{"type":"mystery"}']) ws.send(junk);
      // Fields that String() cannot convert (it throws, out of the socket's message handler).
      ws.send('{"type":"error","code":{"toString":1},"message":"m"}');
      ws.send('{"type":"error","code":"unknown-peer","message":{"toString":1,"valueOf":1}}');
      ws.send(Buffer.from([1, 2, 3]));
      ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: 'me', peers: ['x', 7, 'me'] }));
      ws.send(JSON.stringify({ type: 'signal', room: j.room, from: 'x', data: { ok: true } }));
    });
    const warnings: string[] = [];
    const a = client(fake.url, 'room-g', { logger: { warn: (m) => warnings.push(m) } });
    await waitFor(() => a.seen.signals.length === 1, 'the valid signal');
    expect(a.seen.joined).toEqual([{ selfId: 'me', peers: ['x'], fresh: true }]);
    expect(a.seen.errors).toEqual([]);
    expect(a.seen.refused).toEqual([]);
    expect(warnings.length).toBeGreaterThanOrEqual(4);
    expect(warnings).toContain('dropped a relay error frame without a string code');
  });

  it('a relay that lets the client in and refuses it at once does not hold the backoff at its first delay; a connection that lasted starts it over', async () => {
    // Connections alternate between a refusal at connect (error frame, close 1013) and a
    // join followed at once by a close 1013 server-full; from the seventh on they last.
    let n = 0;
    let last: WebSocket | undefined;
    const fake = await fakeRelay((j, ws) => {
      n++;
      last = ws;
      if (n >= 7) return ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: 'p', peers: [] }));
      if (n % 2 === 1) ws.send(JSON.stringify({ type: 'error', code: 'server-full', message: 'relay is full' }));
      else ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: 'p', peers: [] }));
      ws.close(1013, 'server-full');
    });
    const clock = new ManualClock();
    const counted = countingWebSocket();
    const a = client(fake.url, 'room-flap', { clock, WebSocket: counted.WebSocket, backoff: exactBackoff });
    for (let i = 1; i <= 6; i++) {
      await waitFor(() => a.seen.refused.length === i, `refusal ${i}`);
      const wait = a.seen.refused.at(-1)!.detail!.retryInMs as number;
      clock.advance(wait - 1);
      expect(counted.made()).toBe(i); // not a millisecond early
      clock.advance(1);
      expect(counted.made()).toBe(i + 1);
    }
    // Each join in between used to start the backoff over: 100, 100, 100, ...
    expect(a.seen.refused.map((e) => e.detail?.retryInMs)).toEqual([100, 200, 400, 400, 400, 400]);
    expect(a.seen.joined).toHaveLength(3);

    // The seventh connection stays joined for the longest delay, then drops: the next
    // attempt waits the first delay again.
    await waitFor(() => a.seen.joined.length === 4, 'a lasting join');
    clock.advance(exactBackoff.maxMs);
    last!.terminate();
    await waitFor(() => a.s.status === 'reconnecting', 'lost');
    clock.advance(99);
    expect(counted.made()).toBe(7);
    clock.advance(1);
    expect(counted.made()).toBe(8);
    expect(a.seen.errors).toEqual([]);
  });

  it('pings while joined and reconnects when the relay goes silent', async () => {
    // Answers join, never pongs: the client must notice the silence and reconnect.
    const fake = await fakeRelay((j, ws) => ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: 'p1', peers: [] })));
    const a = client(fake.url, 'room-s', { pingIntervalMs: 40, silenceTimeoutMs: 150 });
    await waitFor(() => fake.frames.some((f) => f.type === 'ping'), 'a ping');
    await waitFor(() => fake.connections() >= 2, 'reconnect after silence', 10_000);
    await waitFor(() => a.seen.joined.length >= 2, 'rejoined');
    expect(fake.frames.filter((f) => f.type === 'join')[1]).toMatchObject({ peerId: 'p1' });
  });

  /**
   * Timers the way Chrome runs them in a tab hidden for 5 minutes, alone in its room (no
   * WebRTC connection to exempt it): each fires at the next whole minute. On a ManualClock.
   */
  function minuteAlignedClock(inner: ManualClock): Clock {
    return {
      now: () => inner.now(),
      setTimeout: (fn, ms) => inner.setTimeout(fn, Math.ceil((inner.now() + ms) / 60_000) * 60_000 - inner.now() || 60_000),
      clearTimeout: (h) => inner.clearTimeout(h),
    };
  }

  it('stays joined in a hidden tab whose timers fire once a minute: a late check probes the relay instead of calling it silent', async () => {
    const r = await relay();
    const manual = new ManualClock();
    const a = client(r.address.url, 'room-hidden', { clock: minuteAlignedClock(manual), WebSocket: countingWebSocket().WebSocket });
    await waitFor(() => a.s.status === 'connected', 'joined');
    for (let minute = 1; minute <= 10; minute++) {
      manual.advance(60_000); // one throttled wake-up: the ping check, 40 s later than asked for
      await new Promise((res) => setTimeout(res, 30)); // the relay's pong arrives meanwhile, as it would
    }
    expect(a.s.status).toBe('connected');
    expect(a.seen.joined).toHaveLength(1);
    expect(a.seen.statuses).toEqual(['connected']); // never reconnecting in between
  });

  it('a late check whose probe gets no answer (a dead connection, or a laptop waking to one) reconnects at the next check', async () => {
    const fake = await fakeRelay((j, ws) => ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: 'p1', peers: [] })));
    const manual = new ManualClock();
    const a = client(fake.url, 'room-late', { clock: minuteAlignedClock(manual) });
    await waitFor(() => a.seen.joined.length === 1, 'joined');
    manual.advance(60_000); // the first ping check, 40 s late...
    await waitFor(() => fake.frames.some((f) => f.type === 'ping'), 'a probe ping');
    expect(fake.connections()).toBe(1); // ...sends a probe instead of reconnecting at once
    manual.advance(60_000); // the next check: the probe was never answered
    await waitFor(() => a.s.status === 'reconnecting', 'lost after an unanswered probe');
    manual.advance(60_000); // the retry's timer (throttled like the rest)
    await waitFor(() => fake.connections() >= 2, 'reconnected');
  });

  it('on rejoin, waits out peer-id-taken (a stale connection the relay still holds) instead of failing', async () => {
    let joins = 0;
    const fake = await fakeRelay((j, ws) => {
      joins++;
      if (joins === 1) {
        ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: 'keep-me', peers: [] }));
        setTimeout(() => ws.terminate(), 20); // network blip
      } else if (joins <= 3) {
        ws.send(JSON.stringify({ type: 'error', code: 'peer-id-taken', message: 'held by another connection', room: j.room }));
      } else {
        ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: j.peerId, peers: [] }));
      }
    });
    const a = client(fake.url, 'room-t');
    await waitFor(() => a.seen.joined.length === 2, 'rejoined after the id was released', 10_000);
    expect(a.seen.joined.map((x) => x.selfId)).toEqual(['keep-me', 'keep-me']);
    expect(fake.frames.filter((f) => f.type === 'join').slice(1).every((f) => f.peerId === 'keep-me')).toBe(true);
    expect(a.seen.errors).toEqual([]);
    expect(a.s.status).toBe('connected');
  });

  it('retries an attempt that never joins (a relay or proxy that accepts TCP and never answers), then gives up with relay-unreachable', async () => {
    const held: Socket[] = [];
    const mute = createServer((sock) => held.push(sock)); // accepts, says nothing
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    try {
      const warnings: string[] = [];
      const a = client(`ws://127.0.0.1:${(mute.address() as { port: number }).port}`, 'room-m', {
        connectTimeoutMs: 150,
        maxInitialAttempts: 3,
        logger: { warn: (m) => warnings.push(m) },
      });
      await waitFor(() => a.s.status === 'closed', 'gave up', 10_000);
      expect(held.length).toBe(3);
      expect(a.seen.errors.map((e) => e.code)).toEqual(['relay-unreachable']);
      expect(warnings.filter((w) => w === 'relay did not answer; retrying')).toHaveLength(3);
    } finally {
      held.forEach((sock) => sock.destroy());
      await new Promise((r) => mute.close(r));
    }
  });

  it('also retries a relay that opens the WebSocket but never answers join', async () => {
    const fake = await fakeRelay(() => {}); // reads join, never replies
    const a = client(fake.url, 'room-q', { connectTimeoutMs: 150 });
    await waitFor(() => fake.connections() >= 3, 'retried', 10_000);
    expect(a.s.status).toBe('connecting');
    expect(fake.frames.filter((f) => f.type === 'join').length).toBeGreaterThanOrEqual(2);
  });

  it('keeps one ping loop after peer-id-taken retries, not one more per retry', async () => {
    let joins = 0;
    let finalAt = 0;
    const fake = await fakeRelay((j, ws) => {
      joins++;
      if (joins === 1) {
        ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: 'keep-me', peers: [] }));
        setTimeout(() => ws.terminate(), 20);
      } else if (joins <= 6) {
        ws.send(JSON.stringify({ type: 'error', code: 'peer-id-taken', message: 'held', room: j.room }));
      } else {
        finalAt = Date.now();
        ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: j.peerId, peers: [] }));
      }
    });
    // The peer-id-taken sockets open and close well within one ping interval, so any
    // ping counted after the final join comes from a loop still running.
    const interval = 400;
    client(fake.url, 'room-p', { pingIntervalMs: interval, backoff: { initialMs: 20, maxMs: 40, jitter: 0 } });
    await waitFor(() => finalAt > 0, 'final join', 10_000);
    const before = fake.frames.filter((f) => f.type === 'ping').length;
    await new Promise((r) => setTimeout(r, interval * 5 + interval / 2));
    const pings = fake.frames.filter((f) => f.type === 'ping').length - before;
    expect(pings).toBeGreaterThanOrEqual(4);
    expect(pings).toBeLessThanOrEqual(6); // leaked loops made it 31 here
  });

  it('stays closed when a joined listener closes it', async () => {
    const fake = await fakeRelay((j, ws) => ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: 'p', peers: [] })));
    const s = createWebSocketSignaling({ url: fake.url, room: 'room-c', WebSocket, logger: quiet });
    clients.push(s);
    const statuses: SignalingStatus[] = [];
    s.on('status', (st) => statuses.push(st));
    s.on('joined', () => s.close());
    s.join();
    await waitFor(() => statuses.includes('closed'), 'closed');
    await new Promise((r) => setTimeout(r, 50));
    expect(s.status).toBe('closed');
    expect(statuses).toEqual(['closed']);
  });

  it('sends slower for good when the relay refuses a frame for its rate (its limit is lower than our pacer)', async () => {
    const fake = await fakeRelay((j, ws) => {
      ws.send(JSON.stringify({ type: 'joined', v: 1, room: j.room, peerId: 'p', peers: ['q'] }));
      ws.on('message', (d) => {
        if (JSON.parse(d.toString()).type === 'signal') ws.send(JSON.stringify({ type: 'error', code: 'rate-limited', message: 'over the message rate limit' }));
      });
    });
    const warnings: Array<{ message: string; detail?: Record<string, unknown> }> = [];
    const a = client(fake.url, 'room-r', { logger: { warn: (message, detail) => warnings.push({ message, detail }) } });
    await waitFor(() => a.s.status === 'connected', 'joined');
    a.s.sendSignal('q', { hi: 1 });
    await waitFor(() => warnings.some((w) => w.message.includes('sending slower')), 'slowed down');
    expect(warnings.find((w) => w.message.includes('sending slower'))!.detail).toEqual({ perSecond: 25 });
    expect(a.seen.errors).toEqual([]);
    expect(a.s.status).toBe('connected');
  });
});
