import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fnv1a32 } from '../../src/util/fnv1a.js';
import { Reassembler, messageFrames } from '../../src/mesh/chunking.js';
import {
  CHUNK_FIRST_HEADER,
  CHUNK_NEXT_HEADER,
  MSG_HEADER,
  channelId,
  decodeFrame,
  encodeChunkFirst,
  encodeChunkNext,
  encodeHeartbeat,
  encodeMsg,
} from '../../src/mesh/frame.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { createRng } from '../../src/util/rng.js';
import { waitFor } from '../support/net.js';

const FRAME = 16 * 1024;

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = createRng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

/** Reassemble the frames of one message with a fresh Reassembler; returns the message. */
function roundTrip(data: Uint8Array, maxFrame: number, limit = 1 << 30): { frames: Uint8Array[]; out: Uint8Array | undefined } {
  const ch = channelId('x');
  const frames = [...messageFrames(ch, 7, data, maxFrame)];
  const r = new Reassembler(limit);
  let out: Uint8Array | undefined;
  for (const f of frames) {
    const d = decodeFrame(f);
    if (d.kind === 'msg') out = d.payload;
    else if (d.kind === 'chunk-first' || d.kind === 'chunk-next') {
      const res = d.kind === 'chunk-first' ? r.first(d.channel, d.msgId, d.total, d.payload) : r.next(d.msgId, d.payload);
      if (res.kind === 'complete') out = res.data;
      else expect(res.kind).toBe('pending');
    } else throw new Error(`unexpected ${d.kind}`);
  }
  return { frames, out };
}

describe('frame codec', () => {
  it('round-trips every frame kind and names channels by a stable 48-bit hash', () => {
    expect(channelId('default')).toBe(channelId('default'));
    expect(channelId('a')).not.toBe(channelId('b'));
    // SHA-256 of "a" is ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb.
    expect(channelId('a')).toBe(0xca978112ca1b);
    expect(decodeFrame(encodeMsg(5, Uint8Array.of(1, 2)))).toEqual({ kind: 'msg', channel: 5, payload: Uint8Array.of(1, 2) });
    expect(decodeFrame(encodeChunkFirst(5, 9, 100, Uint8Array.of(3)))).toEqual({
      kind: 'chunk-first',
      channel: 5,
      msgId: 9,
      total: 100,
      payload: Uint8Array.of(3),
    });
    expect(decodeFrame(encodeChunkNext(9, Uint8Array.of(4)))).toEqual({ kind: 'chunk-next', msgId: 9, payload: Uint8Array.of(4) });
    expect(decodeFrame(encodeHeartbeat('ping', 3, 12.5))).toEqual({ kind: 'ping', seq: 3, sentAt: 12.5 });
    expect(decodeFrame(encodeHeartbeat('pong', 4, 1))).toEqual({ kind: 'pong', seq: 4, sentAt: 1 });
  });

  it('reports malformed frames instead of throwing', () => {
    const bad = [new Uint8Array(0), Uint8Array.of(0x04, 0, 0, 0, 0, 0), Uint8Array.of(0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), Uint8Array.of(0x03), Uint8Array.of(0x10, 1), Uint8Array.of(0x7f), Uint8Array.of(0x12, 0)];
    for (const b of bad) expect(decodeFrame(b).kind).toBe('bad');
    const nan = encodeHeartbeat('ping', 1, 0);
    new DataView(nan.buffer).setFloat64(5, Number.NaN);
    expect(decodeFrame(nan).kind).toBe('bad');
  });
});

describe('channel ids', () => {
  const sha48 = (name: string) => parseInt(createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 12), 16);

  it('are the first 48 bits of the SHA-256 of the UTF-8 name, carried whole in MSG and CHUNK_FIRST', () => {
    for (const name of ['chat', 'yjs:notes', 'lockstep:fwd:1', 'ünïcödé 🎲', '']) {
      expect(channelId(name)).toBe(sha48(name));
      const id = channelId(name);
      expect(decodeFrame(encodeMsg(id, Uint8Array.of(1)))).toMatchObject({ kind: 'msg', channel: id });
      expect(decodeFrame(encodeChunkFirst(id, 7, 99, Uint8Array.of(1)))).toMatchObject({ kind: 'chunk-first', channel: id, msgId: 7, total: 99 });
    }
    for (const id of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 48 - 1]) expect(decodeFrame(encodeMsg(id, new Uint8Array(0)))).toMatchObject({ channel: id });
  });

  it('tell apart names whose 32-bit FNV-1a ids collide (the first format merged their documents)', () => {
    const utf8 = new TextEncoder();
    const [x, y] = ['yjs:doc-95998', 'yjs:doc-438520'];
    expect(fnv1a32(utf8.encode(x))).toBe(fnv1a32(utf8.encode(y)));
    expect(channelId(x)).not.toBe(channelId(y));
  });

  it('refuses a frame of the first format (kinds 0x01, 0x02) as coming from an older meshparty', () => {
    for (const legacy of [Uint8Array.of(0x01, 0, 0, 0, 1, 42), Uint8Array.of(0x02, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 42)]) {
      expect(decodeFrame(legacy)).toEqual({ kind: 'bad', reason: expect.stringContaining('older meshparty') });
    }
  });
});

describe('chunking', () => {
  it('splits and reassembles sizes around the frame boundaries, each frame within maxFrame', () => {
    const one = FRAME - MSG_HEADER;
    const firstPart = FRAME - CHUNK_FIRST_HEADER;
    const nextPart = FRAME - CHUNK_NEXT_HEADER;
    const sizes = [0, 1, one - 1, one, one + 1, firstPart + nextPart, firstPart + nextPart + 1, 5 * FRAME + 3];
    for (const [i, n] of sizes.entries()) {
      const data = randomBytes(n, i);
      const { frames, out } = roundTrip(data, FRAME);
      expect(out, `size ${n}`).toEqual(data);
      for (const f of frames) expect(f.byteLength).toBeLessThanOrEqual(FRAME);
      expect(frames.length, `size ${n}`).toBe(n <= one ? 1 : 1 + Math.ceil((n - firstPart) / nextPart));
    }
  });

  it('refuses a chunk stream announcing more than the limit, then drops its later chunks quietly', () => {
    const r = new Reassembler(1000);
    expect(r.first(1, 1, 1001, new Uint8Array(10)).kind).toBe('bad');
    expect(r.next(1, new Uint8Array(10)).kind).toBe('discarded');
    expect(r.bufferedBytes).toBe(0);
  });

  it('refuses a stream that runs past its announced total, and chunks of unknown messages', () => {
    const r = new Reassembler(1000);
    expect(r.first(1, 1, 20, new Uint8Array(15)).kind).toBe('pending');
    expect(r.next(1, new Uint8Array(6)).kind).toBe('bad');
    expect(r.next(2, new Uint8Array(1)).kind).toBe('bad');
    expect(r.bufferedBytes).toBe(0);
  });

  it('bounds the number of messages open at once', () => {
    const r = new Reassembler(1000, 2);
    expect(r.first(1, 1, 10, new Uint8Array(1)).kind).toBe('pending');
    expect(r.first(1, 2, 10, new Uint8Array(1)).kind).toBe('pending');
    expect(r.first(1, 3, 10, new Uint8Array(1)).kind).toBe('bad');
  });

  it('holds about the bytes received, however small the chunks (a peer sending 1-byte chunks)', () => {
    const r = new Reassembler(64 << 20);
    const total = 300_000;
    const first = decodeFrame(encodeChunkFirst(7, 1, total, Uint8Array.of(0)));
    if (first.kind !== 'chunk-first') throw new Error(first.kind);
    r.first(first.channel, first.msgId, first.total, first.payload);
    const limits: boolean[] = [];
    for (let i = 1; i < total - 1; i++) {
      const d = decodeFrame(encodeChunkNext(1, Uint8Array.of(i & 0xff))); // its own buffer, as from a data channel
      if (d.kind !== 'chunk-next') throw new Error(d.kind);
      expect(r.next(d.msgId, d.payload)).toEqual({ kind: 'pending' });
      if (i % 10_000 === 0) limits.push(r.heldBytes <= Math.max(64 * 1024, 2 * r.bufferedBytes));
    }
    expect(limits.every(Boolean)).toBe(true);
    const last = r.next(1, Uint8Array.of((total - 1) & 0xff));
    if (last.kind !== 'complete') throw new Error(last.kind);
    expect(last.data.byteLength).toBe(total);
    expect(last.data.every((b, i) => b === (i & 0xff))).toBe(true);
    expect(r.heldBytes).toBe(0);
  });

  it('keeps interleaved chunk streams apart', () => {
    const r = new Reassembler(1000);
    r.first(1, 1, 4, Uint8Array.of(1, 1));
    r.first(2, 2, 4, Uint8Array.of(2, 2));
    expect(r.next(2, Uint8Array.of(2, 2))).toEqual({ kind: 'complete', channel: 2, data: Uint8Array.of(2, 2, 2, 2) });
    expect(r.next(1, Uint8Array.of(1, 1))).toEqual({ kind: 'complete', channel: 1, data: Uint8Array.of(1, 1, 1, 1) });
  });
});

describe('big messages over the mesh', () => {
  async function pair(maxMessageBytes: number): Promise<{ a: Room; b: Room }> {
    const net = createMemoryNetwork({ maxMessageSize: FRAME, mesh: { maxMessageBytes, logger: silentLogger() } });
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    await waitFor(() => a.peers.size === 1 && b.peers.size === 1, 'connected');
    return { a, b };
  }

  it('delivers 0 bytes, boundary sizes and exactly maxMessageBytes intact and in order; refuses one byte more', async () => {
    const limit = 300_000;
    const { a, b } = await pair(limit);
    const got: Uint8Array[] = [];
    b.channel('big').on('message', ({ data }) => got.push(data));
    const sizes = [0, FRAME - MSG_HEADER, FRAME - MSG_HEADER + 1, 3 * FRAME, limit];
    const sent = sizes.map((n, i) => randomBytes(n, 100 + i));
    await Promise.all(sent.map((d) => a.channel('big').send('b', d)));
    await waitFor(() => got.length === sent.length, 'all messages');
    expect(got.map((g) => g.byteLength)).toEqual(sizes);
    for (let i = 0; i < sent.length; i++) expect(got[i]).toEqual(sent[i]);
    await expect(a.channel('big').send('b', new Uint8Array(limit + 1))).rejects.toMatchObject({ code: 'message-too-large' });
    await expect(a.channel('big').broadcast(new Uint8Array(limit + 1))).rejects.toMatchObject({ code: 'message-too-large' });
    await a.leave();
    await b.leave();
  });

  it('interleaves chunked messages of many channels at once (more than the open-stream limit), all intact', async () => {
    const { a, b } = await pair(1 << 20);
    const got = new Map<string, Uint8Array[]>();
    const names = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
    for (const n of names) b.channel(n).on('message', ({ data }) => got.set(n, [...(got.get(n) ?? []), data]));
    const sent = new Map(names.map((n, i) => [n, [randomBytes(100_000 + i, 300 + i), randomBytes(40_000, 400 + i)]]));
    await Promise.all(names.flatMap((n) => sent.get(n)!.map((d) => a.channel(n).send('b', d))));
    await waitFor(() => names.every((n) => got.get(n)?.length === 2), 'every message on every channel');
    for (const n of names) expect(got.get(n)).toEqual(sent.get(n));
    await a.leave();
    await b.leave();
  });

  it('refuses an unreliable message larger than one frame, and delivers one that fits', async () => {
    const { a, b } = await pair(1 << 20);
    const fast = a.channel('inputs', { reliability: 'unreliable' });
    const got: number[] = [];
    b.channel('inputs', { reliability: 'unreliable' }).on('message', ({ data }) => got.push(data.byteLength));
    await expect(fast.send('b', new Uint8Array(FRAME))).rejects.toMatchObject({ code: 'message-too-large' });
    await fast.send('b', new Uint8Array(FRAME - MSG_HEADER));
    await waitFor(() => got.length === 1, 'unreliable message');
    expect(got).toEqual([FRAME - MSG_HEADER]);
    await a.leave();
    await b.leave();
  });
});
