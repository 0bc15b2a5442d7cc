import { describe, expect, it } from 'vitest';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import type { Room } from '../../src/mesh/types.js';
import { MemoryRelay } from '../../src/signaling-client/memory-signaling.js';
import { MemoryWire } from '../../src/transport/memory.js';
import type { PeerTransport, PeerTransportFactory } from '../../src/transport/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { waitFor } from '../support/net.js';

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('channels', () => {
  it('keeps channels apart by name, per reliability, and refuses a name reused with another reliability', async () => {
    const net = createMemoryNetwork({ mesh: { logger: silentLogger() } });
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    await waitFor(() => a.peers.size === 1 && b.peers.size === 1, 'connected');
    const seen: string[] = [];
    for (const name of ['chat', 'yjs:doc', 'default']) b.channel(name).on('message', ({ data }) => seen.push(`${name}=${dec(data)}`));
    b.channel('game', { reliability: 'unreliable' }).on('message', ({ data }) => seen.push(`game=${dec(data)}`));
    expect(a.channel('chat')).toBe(a.channel('chat'));
    expect(() => a.channel('chat', { reliability: 'unreliable' })).toThrow(expect.objectContaining({ code: 'channel-reliability-mismatch' }));
    await a.channel('chat').send('b', enc('1'));
    await a.channel('yjs:doc').send('b', enc('2'));
    await a.send('b', enc('3'));
    await a.channel('game', { reliability: 'unreliable' }).send('b', enc('4'));
    // No listener at b for this one: dropped there, seen by nobody.
    await a.channel('nobody-listens').send('b', enc('5'));
    await waitFor(() => seen.length === 4, 'four messages');
    expect(seen.sort()).toEqual(['chat=1', 'default=3', 'game=4', 'yjs:doc=2']);
    await a.leave();
    await b.leave();
  });

  it('rejects sends to unknown peers and after leave', async () => {
    const net = createMemoryNetwork();
    const a = net.join('r', { peerId: 'a' });
    await net.settle();
    await expect(a.send('nobody', enc('x'))).rejects.toMatchObject({ code: 'unknown-peer' });
    await a.leave();
    await a.leave(); // idempotent
    await expect(a.send('nobody', enc('x'))).rejects.toMatchObject({ code: 'closed' });
    expect(a.status).toBe('closed');
  });
});

describe('backpressure', () => {
  /** A mesh pair over a slow link whose transports record the largest bufferedAmount seen after a send. */
  function slowPair(clock: ManualClock) {
    const wire = new MemoryWire({ clock, latencyMs: 20, maxMessageSize: 16 * 1024, lowWaterMark: 32 * 1024 });
    const relay = new MemoryRelay();
    let maxBuffered = 0;
    const watched = (id: string): PeerTransportFactory => ({
      create(o) {
        const t = wire.factory(id).create(o);
        const send = t.send.bind(t);
        (t as { send: PeerTransport['send'] }).send = (rel, data) => {
          send(rel, data);
          maxBuffered = Math.max(maxBuffered, t.bufferedAmount('reliable'));
        };
        return t;
      },
    });
    const join = (id: string, maxQueuedBytes?: number): Room =>
      createMesh({
        room: 'r',
        clock,
        signaling: relay.client('r', id),
        transports: watched(id),
        heartbeatIntervalMs: 60_000,
        peerTimeoutMs: 600_000,
        highWaterMarkBytes: 64 * 1024,
        maxQueuedBytes,
        // Simulated time: a farewell would wait for clock turns nobody advances after the test.
        farewellTimeoutMs: 0,
      });
    return { join, maxBuffered: () => maxBuffered };
  }

  it('queues behind bufferedAmount, never exceeds the high-water mark by more than a frame, and delivers everything in order', async () => {
    const clock = new ManualClock();
    const { join, maxBuffered } = slowPair(clock);
    const a = join('a');
    const b = join('b');
    await settle();
    await clock.advanceAsync(200);
    expect(a.peers.has('b')).toBe(true);
    const got: number[] = [];
    b.channel('bulk').on('message', ({ data }) => got.push(new DataView(data.buffer, data.byteOffset).getUint32(0)));
    const bulk = a.channel('bulk');
    const count = 200;
    let resolved = 0;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const msg = new Uint8Array(10_000);
      new DataView(msg.buffer).setUint32(0, i);
      sends.push(bulk.send('b', msg).then(() => void resolved++));
    }
    // Everything is queued at once; the transport only holds up to the high-water mark.
    expect(bulk.queuedBytes('b')).toBeGreaterThan(1_000_000);
    expect(a.channel('other').queuedBytes('b')).toBe(0);
    await clock.advanceAsync(0);
    expect(resolved).toBeLessThan(count);
    for (let i = 0; i < 200 && got.length < count; i++) await clock.advanceAsync(20);
    await Promise.all(sends);
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(bulk.queuedBytes('b')).toBe(0);
    // High-water mark 64 KiB; one more 16 KiB frame may be handed over at the edge.
    expect(maxBuffered()).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
    expect(maxBuffered()).toBeGreaterThan(32 * 1024);
    await a.leave();
    await b.leave();
  });

  it('rejects queued messages with peer-left when the connection goes away', async () => {
    const clock = new ManualClock();
    const { join } = slowPair(clock);
    const a = join('a');
    const b = join('b');
    await settle();
    await clock.advanceAsync(200);
    const pending = Array.from({ length: 50 }, () => a.channel('bulk').send('b', new Uint8Array(10_000)));
    const outcome = Promise.allSettled(pending);
    await b.leave();
    await clock.advanceAsync(100);
    const results = await outcome;
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'peer-left' });
    expect(a.peers.size).toBe(0);
    await a.leave();
  });

  it('refuses a message that would overfill the bounded queue with queue-full, and keeps everything it accepted in order', async () => {
    const clock = new ManualClock();
    const { join } = slowPair(clock);
    const a = join('a', 300_000);
    const b = join('b');
    await settle();
    await clock.advanceAsync(200);
    const got: number[] = [];
    b.channel('bulk').on('message', ({ data }) => got.push(data[0]!));
    const sends = Array.from({ length: 60 }, (_, i) => a.channel('bulk').send('b', new Uint8Array(10_000).fill(i)));
    const settled = Promise.allSettled(sends);
    for (let i = 0; i < 100; i++) await clock.advanceAsync(20);
    const results = (await settled).map((x) => (x.status === 'fulfilled' ? 'ok' : (x.reason as { code: string }).code));
    expect(results.filter((r) => r === 'queue-full').length).toBeGreaterThan(0);
    expect(results.filter((r) => r !== 'ok' && r !== 'queue-full')).toEqual([]);
    const accepted = results.flatMap((r, i) => (r === 'ok' ? [i] : []));
    expect(got).toEqual(accepted);
    await a.leave();
    await b.leave();
  });
});

describe('a buffer reused after send()', () => {
  it('is sent as it was when send() or broadcast() returned, also behind backpressure and in chunks', async () => {
    // An app that refills one scratch buffer per message (as a data channel's own send()
    // allows): messages that had to wait were cut into frames from the buffer later, so
    // they arrived with the latest contents (0, 4, 4, 4, 4), a chunked one torn.
    const clock = new ManualClock();
    const net = createMemoryNetwork({ clock, latencyMs: 5, maxMessageSize: 1024, lowWaterMark: 512, mesh: { highWaterMarkBytes: 1000, logger: silentLogger() } });
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    const c = net.join('r', { peerId: 'c' });
    await net.advance(100);
    const got: Record<string, string[]> = { b: [], c: [] };
    for (const [id, room] of [['b', b], ['c', c]] as const) {
      room.channel('x').on('message', ({ data }) => got[id]!.push(`${data.length}:${[...new Set(data)].join(',')}`));
    }
    const scratch = new Uint8Array(3000);
    for (let i = 1; i <= 4; i++) {
      scratch.fill(i);
      void a.channel('x').send('b', scratch.subarray(0, i * 700));
    }
    for (let i = 5; i <= 7; i++) {
      scratch.fill(i);
      void a.channel('x').broadcast(scratch.subarray(0, 2000));
    }
    await net.advance(1000);
    expect(got.b).toEqual(['700:1', '1400:2', '2100:3', '2800:4', '2000:5', '2000:6', '2000:7']);
    expect(got.c).toEqual(['2000:5', '2000:6', '2000:7']);
    await Promise.all([a, b, c].map((r) => r.leave()));
  });
});

describe('channels share a connection fairly', () => {
  it('a small message on one channel overtakes a large one on another; each channel keeps its own order', async () => {
    const clock = new ManualClock();
    const wire = new MemoryWire({ clock, latencyMs: 5, maxMessageSize: 16 * 1024, lowWaterMark: 16 * 1024 });
    const relay = new MemoryRelay();
    const join = (id: string) =>
      createMesh({ room: 'r', clock, signaling: relay.client('r', id), transports: wire.factory(id), heartbeatIntervalMs: 60_000, peerTimeoutMs: 600_000, highWaterMarkBytes: 32 * 1024, farewellTimeoutMs: 0 });
    const a = join('a');
    const b = join('b');
    await settle();
    await clock.advanceAsync(100);
    const order: string[] = [];
    b.channel('doc').on('message', ({ data }) => order.push(`doc:${data.byteLength}`));
    b.channel('chat').on('message', ({ data }) => order.push(`chat:${dec(data)}`));
    const big = a.channel('doc').send('b', new Uint8Array(2_000_000));
    const small = a.channel('doc').send('b', new Uint8Array(10));
    const chat = [1, 2, 3].map((i) => a.channel('chat').send('b', enc(String(i))));
    await settle();
    for (let i = 0; i < 400 && order.length < 5; i++) await clock.advanceAsync(5);
    await Promise.all([big, small, ...chat]);
    // Chat goes first (it only waits for its turn); the doc channel keeps its own order.
    expect(order).toEqual(['chat:1', 'chat:2', 'chat:3', 'doc:2000000', 'doc:10']);
    await a.leave();
    await b.leave();
  });
});
