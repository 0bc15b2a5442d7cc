import { describe, expect, it } from 'vitest';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { shouldInitiate } from '../../src/mesh/glare.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { MemoryRelay } from '../../src/signaling-client/memory-signaling.js';
import { tappedSignaling } from '../support/tapped-signaling.js';
import { MemoryWire } from '../../src/transport/memory.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import type { Room } from '../../src/mesh/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { createRng } from '../../src/util/rng.js';
import { waitFor } from '../support/net.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** Every permutation of `xs` (small n only). */
function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

const fullMesh = (rooms: Room[]) => rooms.every((r) => r.peers.size === rooms.length - 1);

describe('glare rule', () => {
  it('picks exactly one initiator per pair, the same from both sides', () => {
    const ids = ['a', 'b', 'B', 'peer-10', 'peer-2', 'zz', ''];
    for (const x of ids) for (const y of ids) if (x !== y) expect(shouldInitiate(x, y)).toBe(!shouldInitiate(y, x));
  });

  it('is pinned: peers of different builds must pick the same offerer (PROTOCOL.md, glare rule)', () => {
    const offers = ['a', 'b', 'c', 'd', 'e'].flatMap((x) => ['a', 'b', 'c', 'd', 'e'].filter((y) => x < y).map((y) => `${x}${y}:${shouldInitiate(x, y) ? x : y}`));
    expect(offers.join(' ')).toBe('ab:b ac:a ad:d ae:a bc:c bd:d be:b cd:d ce:e de:d');
  });

  it('spreads the offers: in a room of 16 no peer offers to more than 12 of the 15 others', () => {
    const ids = Array.from({ length: 16 }, (_, i) => `peer-${i}`);
    const offers = ids.map((x) => ids.filter((y) => y !== x && shouldInitiate(x, y)).length);
    expect(offers.reduce((a, b) => a + b, 0)).toBe((16 * 15) / 2);
    expect(Math.max(...offers)).toBeLessThanOrEqual(12);
    expect(Math.min(...offers)).toBeGreaterThanOrEqual(3);
  });

  it('forms exactly one connection per pair for simultaneous joins in every order (N=4)', async () => {
    for (const order of permutations(['a', 'b', 'c', 'd'])) {
      const net = createMemoryNetwork({ mesh: { heartbeatIntervalMs: 60_000 }, clock: new ManualClock() });
      const rooms = order.map((peerId) => net.join('r', { peerId }));
      await net.settle();
      expect(fullMesh(rooms), `order ${order.join('')}`).toBe(true);
      expect(net.openConnections()).toBe(6);
      await Promise.all(rooms.map((r) => r.leave()));
    }
  });

  it('forms exactly one connection per pair when peers join one after another, in every order (N=4)', async () => {
    for (const order of permutations(['a', 'b', 'c', 'd'])) {
      const net = createMemoryNetwork({ clock: new ManualClock() });
      const rooms: Room[] = [];
      for (const peerId of order) {
        rooms.push(net.join('r', { peerId }));
        await net.settle();
      }
      expect(fullMesh(rooms), `order ${order.join('')}`).toBe(true);
      expect(net.openConnections()).toBe(6);
      await Promise.all(rooms.map((r) => r.leave()));
    }
  });

  it('N=8 with seeded random join timing forms exactly N*(N-1)/2 connections and no more', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = createRng(seed);
      const clock = new ManualClock();
      const net = createMemoryNetwork({ seed, clock, latencyMs: 5, jitterMs: 20 });
      const rooms: Room[] = [];
      const joins = Array.from({ length: 8 }, (_, i) => ({ i, at: rng.int(50) }));
      for (const { i, at } of joins) clock.setTimeout(() => rooms.push(net.join('r', { peerId: `n${i}` })), at);
      await clock.advanceAsync(2000);
      expect(rooms).toHaveLength(8);
      expect(fullMesh(rooms), `seed ${seed}`).toBe(true);
      expect(net.openConnections()).toBe(28);
      // Stays at one per pair: nothing reconnects or duplicates later.
      await clock.advanceAsync(5000);
      expect(net.openConnections()).toBe(28);
      await Promise.all(rooms.map((r) => r.leave()));
    }
  });

  it('delivers messages both ways once connected, on the real clock', async () => {
    const net = createMemoryNetwork();
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    const got: string[] = [];
    b.on('peer-joined', (p) => void b.send(p.id, enc('from b')));
    a.channel('default').on('message', ({ from, data }) => got.push(`${from}:${new TextDecoder().decode(data)}`));
    await waitFor(() => got.length === 1, 'message at a');
    expect(got).toEqual(['b:from b']);
    expect(a.selfId).toBe('a');
    expect([...a.peers.keys()]).toEqual(['b']);
    await a.leave();
    await b.leave();
    expect(a.status).toBe('closed');
  });
});

describe('glare under duplicated signals', () => {
  it('still forms exactly one connection per pair when the relay delivers every signal twice', async () => {
    const relay = new MemoryRelay();
    const wire = new MemoryWire();
    const rooms = ['d', 'a', 'c', 'b', 'e'].map((id) => {
      const inner = relay.client('r', id);
      const doubled = tappedSignaling(inner, (to, data, forward) => {
        forward(to, data);
        forward(to, data);
      });
      return createMesh({ room: 'r', signaling: doubled, transports: wire.factory(id), logger: silentLogger(), heartbeatIntervalMs: 60_000 });
    });
    await waitFor(() => fullMesh(rooms), 'full mesh despite duplicates');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(wire.openConnections()).toBe(10);
    expect(fullMesh(rooms)).toBe(true);
    await Promise.all(rooms.map((r) => r.leave()));
  });
});
