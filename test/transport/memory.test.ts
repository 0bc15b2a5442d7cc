import { describe, expect, it } from 'vitest';
import { MemoryWire, memoryTransportPair } from '../../src/transport/memory.js';
import { ManualClock } from '../../src/util/clock.js';
import { crossWire, runTransportAcceptance } from './acceptance.js';

/** Let zero-latency deliveries (microtasks) run. */
const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

runTransportAcceptance('memory', async () => {
  const wire = new MemoryWire({ seed: 1 });
  const a = wire.factory('a').create({ localId: 'a', remoteId: 'b', initiator: true });
  const b = wire.factory('b').create({ localId: 'b', remoteId: 'a', initiator: false });
  crossWire(a, b);
  return { a, b, cleanup: () => (a.destroy(), b.destroy()) };
});

runTransportAcceptance('memory with latency and jitter (real clock)', async () => {
  const wire = new MemoryWire({ seed: 2, latencyMs: 2, jitterMs: 3, maxMessageSize: 16 * 1024, lowWaterMark: 32 * 1024 });
  const a = wire.factory('a').create({ localId: 'a', remoteId: 'b', initiator: true });
  const b = wire.factory('b').create({ localId: 'b', remoteId: 'a', initiator: false });
  crossWire(a, b);
  return { a, b, cleanup: () => (a.destroy(), b.destroy()) };
});

describe('memory transport specifics', () => {
  it('block(a, b) closes their connection on both sides and lets no new one open, while each reaches others, until unblock', async () => {
    const wire = new MemoryWire({ seed: 3 });
    const pair = (x: string, y: string) => {
      const t = wire.factory(x).create({ localId: x, remoteId: y, initiator: true });
      const u = wire.factory(y).create({ localId: y, remoteId: x, initiator: false });
      crossWire(t, u);
      const opened: string[] = [];
      const closed: string[] = [];
      t.on('open', () => opened.push(x));
      u.on('open', () => opened.push(y));
      t.on('close', ({ reason }) => closed.push(`${x}:${reason}`));
      u.on('close', ({ reason }) => closed.push(`${y}:${reason}`));
      return { t, u, opened, closed };
    };
    const ab = pair('a', 'b');
    await flush();
    expect(ab.opened.sort()).toEqual(['a', 'b']);
    wire.block('b', 'a');
    await flush();
    expect(ab.closed.sort()).toEqual(['a:blocked', 'b:blocked']);
    const again = pair('a', 'b');
    const ac = pair('a', 'c');
    await flush();
    expect({ blocked: again.opened, other: ac.opened.sort() }).toEqual({ blocked: [], other: ['a', 'c'] });
    wire.unblock('a', 'b');
    const healed = pair('a', 'b');
    await flush();
    expect(healed.opened.sort()).toEqual(['a', 'b']);
    for (const p of [again, ac, healed]) (p.t.destroy(), p.u.destroy());
  });

  it('loses about `loss` of unreliable frames, seeded, and never a reliable one', async () => {
    const counts: number[] = [];
    for (const run of [0, 1]) {
      const clock = new ManualClock();
      const { a, b } = memoryTransportPair({ clock, seed: 99, loss: 0.2, latencyMs: 10, jitterMs: 10 });
      let opened = 0;
      a.on('open', () => opened++);
      b.on('open', () => opened++);
      for (let i = 0; i < 10 && opened < 2; i++) await clock.advanceAsync(20);
      expect(opened).toBe(2);
      const got = { reliable: [] as number[], unreliable: 0 };
      b.on('frame', ({ reliability, data }) => (reliability === 'reliable' ? got.reliable.push(data[0]!) : got.unreliable++));
      for (let i = 0; i < 1000; i++) {
        a.send('unreliable', Uint8Array.of(1));
        if (i < 200) a.send('reliable', Uint8Array.of(i));
      }
      await clock.advanceAsync(100);
      expect(got.reliable).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(got.unreliable).toBeGreaterThan(700);
      expect(got.unreliable).toBeLessThan(900);
      counts.push(got.unreliable);
      expect(run === 0 || counts[0] === counts[1]).toBe(true); // same seed, same losses
    }
  });

  it('a partition closes connections across groups and blocks new ones until heal', async () => {
    const { a, b, wire } = memoryTransportPair();
    const closed: string[] = [];
    a.on('close', ({ reason }) => closed.push(`a:${reason}`));
    b.on('close', ({ reason }) => closed.push(`b:${reason}`));
    let open = 0;
    a.on('open', () => open++);
    await flush();
    expect(open).toBe(1);
    wire.partition([['a'], ['b']]);
    await flush();
    expect(closed.sort()).toEqual(['a:network partition', 'b:network partition']);
    const c = wire.factory('a').create({ localId: 'a', remoteId: 'b', initiator: true });
    const d = wire.factory('b').create({ localId: 'b', remoteId: 'a', initiator: false });
    crossWire(c, d);
    let reopened = 0;
    c.on('open', () => reopened++);
    await flush();
    expect(reopened).toBe(0);
    wire.heal();
    const e = wire.factory('a').create({ localId: 'a', remoteId: 'b', initiator: true });
    const f = wire.factory('b').create({ localId: 'b', remoteId: 'a', initiator: false });
    crossWire(e, f);
    let healed = 0;
    e.on('open', () => healed++);
    await flush();
    expect(healed).toBe(1);
    for (const t of [c, d, e, f]) t.destroy();
  });
});
