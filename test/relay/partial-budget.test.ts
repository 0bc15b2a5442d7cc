import { describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { PartialBudget } from '../../signaling/partial-budget.js';
import { relaysStoppedAfterEach, type RelayTestClient } from './client.js';
import { waitFor } from '../support/net.js';

const startRelay = relaysStoppedAfterEach();

/** Header of a masked client frame (all-zero mask) with a 16-bit length: 8 bytes. */
function header(length: number, fin: boolean, opcode: 0x1 | 0x0): Buffer {
  const h = Buffer.alloc(8);
  h[0] = (fin ? 0x80 : 0) | opcode;
  h[1] = 0x80 | 126;
  h.writeUInt16BE(length, 2);
  return h; // mask 0,0,0,0: the payload goes as is
}

/** A y-webrtc ping padded to exactly `length` bytes of JSON (answered with a pong). */
const ping = (length: number) => {
  const bare = '{"type":"ping","pad":""}';
  return Buffer.from(bare.replace('""', `"${'x'.repeat(length - bare.length)}"`));
};

/** The client's TCP socket, to write frames ws would never send (half a frame). */
const raw = (c: RelayTestClient) => (c.ws as unknown as { _socket: Socket })._socket;

describe('PartialBudget', () => {
  it('over the cap, closes the connections holding the most until under 90% of it; a holding that shrinks is counted down', () => {
    const dropped: string[] = [];
    const budget = new PartialBudget<string>(1000, (c) => dropped.push(c));
    budget.measured('a', 300);
    budget.measured('b', 400);
    budget.measured('c', 200);
    budget.measured('a', 0); // a's message completed
    budget.measured('d', 350); // 950
    expect(dropped).toEqual([]);
    budget.measured('c', 450); // 1200: c, now the largest, goes (750 <= 900)
    expect(dropped).toEqual(['c']);
    expect(budget.total).toBe(750);
    budget.forget('b');
    expect(budget.total).toBe(350);
  });

  it('does not close again a connection that an earlier close already took down (counted and logged once)', () => {
    // Closing x tells its rooms it left, and that send drops y as a slow consumer (forgotten
    // here): y must not be closed (counted, logged) a second time as the shedding goes on.
    const dropped: string[] = [];
    const budget = new PartialBudget<string>(1000, (c) => {
      dropped.push(c);
      if (c === 'x') budget.forget('y');
    });
    for (let i = 0; i < 20; i++) budget.measured(`s${i}`, 46); // 920
    budget.measured('x', 50); // 970
    budget.measured('y', 48); // 1018: x goes, y with it; 920 > 900, so one more
    expect(dropped).toEqual(['x', 's0']);
    expect(budget.total).toBe(874);
  });
});

describe('relay: bytes of messages still arriving, all connections together (maxTotalPartialBytes)', () => {
  it('closes the client holding the most with 1013 when the total goes over, counts completed messages out, and serves the rest', async () => {
    const r = await startRelay({ maxTotalPartialBytes: 100_000 });
    const [a, b, c, d, e] = await Promise.all([r.connect(), r.connect(), r.connect(), r.connect(), r.connect()]);
    const partial = () => r.relay.metrics().partialBytes;
    // Payload bytes are counted (ws has parsed the headers). a: 40 000 of a 50 000-byte
    // frame; b: 30 000 of a 40 000-byte ping.
    raw(a).write(Buffer.concat([header(50_000, true, 0x1), Buffer.alloc(40_000, 0x78)]));
    const bPing = ping(40_000);
    raw(b).write(Buffer.concat([header(bPing.length, true, 0x1), bPing.subarray(0, 30_000)]));
    // c: the first fragment of a message, whole (20 000 payload bytes kept by the relay).
    raw(c).write(Buffer.concat([header(20_000, false, 0x1), Buffer.alloc(20_000, 0x78)]));
    await waitFor(() => partial() === 90_000, 'a, b and c counted');
    expect(r.relay.metrics().partialBudgetDrops).toBe(0);
    // d's 20 000 take the total to 110 000: a, the largest, goes (70 000 left).
    raw(d).write(Buffer.concat([header(30_000, true, 0x1), Buffer.alloc(20_000, 0x78)]));
    const still = new Promise((resolve) => setTimeout(() => resolve('still open after 5 s'), 5000).unref());
    expect(await Promise.race([a.closed, still])).toEqual({ code: 1013, reason: 'partial-bytes-over-budget' });
    expect(partial()).toBe(70_000);
    expect(r.relay.metrics().partialBudgetDrops).toBe(1);
    expect(r.logs.some((l) => l.event === 'partial-budget-dropped' && l.held === 40_000 && (l.relayTotal as number) > 100_000)).toBe(true);
    // b finishes its ping: answered, and no longer counted (40 000 left)...
    raw(b).write(bPing.subarray(30_000));
    await b.nextOf('pong');
    expect(partial()).toBe(40_000);
    // ...so e's 45 000 fit (85 000), and nobody else is closed.
    raw(e).write(Buffer.concat([header(50_000, true, 0x1), Buffer.alloc(45_000, 0x78)]));
    await waitFor(() => partial() === 85_000, 'e counted');
    for (const x of [b, c, d, e]) expect(x.ws.readyState).toBe(x.ws.OPEN);
    expect(r.relay.metrics().partialBudgetDrops).toBe(1);
  });
});
