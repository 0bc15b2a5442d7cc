/**
 * What a sender is told when the mesh does not deliver: broadcast() reports a peer whose
 * queue refused the message (a hole in that peer's reliable stream), refuses bad
 * arguments like send(), and a high-water mark set below the transport's low-water mark
 * does not stall the queue. Also the codes send() documents.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { MeshOptions } from '../../src/mesh/mesh-options.js';
import { ManualClock } from '../../src/util/clock.js';

async function pair(mesh: Partial<MeshOptions> = {}, latencyMs = 50) {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ clock, latencyMs, mesh: { logger: silentLogger(), ...mesh } });
  const a = net.join('r', { peerId: 'a' });
  const b = net.join('r', { peerId: 'b' });
  await net.advance(200);
  expect(a.peers.has('b')).toBe(true);
  return { net, a, b };
}

describe('send refusals', () => {
  it('broadcast() rejects with queue-full for a peer whose queue refused the message; every message it resolved for arrived', async () => {
    const { net, a, b } = await pair({ maxQueuedBytes: 300_000 });
    const got: number[] = [];
    b.channel('doc').on('message', ({ data }) => got.push(data[0]!));
    const doc = a.channel('doc');
    const msg = (seq: number) => new Uint8Array(200_000).fill(seq, 0, 1);
    const outcomes = new Map<number, string>();
    const details: unknown[] = [];
    for (let seq = 1; seq <= 8; seq++) {
      doc.broadcast(msg(seq)).then(
        () => outcomes.set(seq, 'ok'),
        (e) => {
          outcomes.set(seq, e.code);
          details.push(e.detail);
        },
      );
    }
    await net.advance(2000);
    const refused = [...outcomes].filter(([, o]) => o === 'queue-full').map(([s]) => s);
    expect(refused.length).toBeGreaterThan(0);
    expect(details[0]).toEqual({ failed: { b: 'queue-full' } });
    const resolved = [...outcomes].filter(([, o]) => o === 'ok').map(([s]) => s);
    expect(resolved.length + refused.length).toBe(8);
    expect(got).toEqual(resolved);
    await a.leave();
    await b.leave();
  });

  it('broadcast() refuses what is not a Uint8Array with bad-argument, as send() does', async () => {
    const { a, b } = await pair();
    const chat = a.channel('chat');
    await expect(chat.send('b', 'hello' as unknown as Uint8Array)).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(chat.broadcast('hello' as unknown as Uint8Array)).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(chat.broadcast(null as unknown as Uint8Array)).rejects.toMatchObject({ code: 'bad-argument' });
    await a.leave();
    await b.leave();
  });

  it('sends waiting behind backpressure when we leave() are delivered before the goodbye; still queued at farewellDrainMs, they reject with drain-timeout', async () => {
    for (const farewellDrainMs of [undefined, 0]) {
      const { net, a, b } = await pair({ farewellDrainMs });
      const got: number[] = [];
      b.channel('bulk').on('message', ({ data }) => got.push(data.byteLength));
      const results: string[] = [];
      const sends = Array.from({ length: 8 }, () =>
        a
          .channel('bulk')
          .send('b', new Uint8Array(200_000))
          .then(
            () => results.push('ok'),
            (e) => results.push(e.code),
          ),
      );
      const left = a.leave();
      await net.advance(2000);
      await left;
      await Promise.all(sends);
      if (farewellDrainMs === undefined) {
        expect(results).toEqual(Array(8).fill('ok'));
        expect(got).toEqual(Array(8).fill(200_000));
      } else {
        expect(results.filter((r) => r !== 'ok').length).toBeGreaterThan(0);
        expect(new Set(results.filter((r) => r !== 'ok'))).toEqual(new Set(['drain-timeout']));
        expect(got.length).toBe(results.filter((r) => r === 'ok').length);
      }
      await b.leave();
    }
  });

  it('a highWaterMarkBytes below the transport lowWaterMark still delivers what waits behind it', async () => {
    // Default lowWaterMark 256 KiB; the app asks for 64 KiB (lower latency).
    const { net, a, b } = await pair({ highWaterMarkBytes: 64 * 1024 }, 5);
    const got: number[] = [];
    b.channel('bulk').on('message', ({ data }) => got.push(data.byteLength));
    const ch = a.channel('bulk');
    let settled = 0;
    // The first leaves ~100 KiB buffered: above 64 KiB, below the low-water mark, where
    // `drain` never fires.
    void ch.send('b', new Uint8Array(100_000)).then(() => settled++);
    void ch.send('b', new Uint8Array(1000)).then(() => settled++);
    await net.advance(2000);
    expect(got).toEqual([100_000, 1000]);
    expect(settled).toBe(2);
    await a.leave();
    await b.leave();
  });
});
