/**
 * leave() hands over what is still queued before its goodbye: a message sent just before
 * (a pasted block's update) that waits behind backpressure reaches the peer whole, ahead
 * of the BYE, within `farewellDrainMs`; what is still queued then is dropped and reported.
 * Simulated time: a 10 ms link with 16 KiB frames and a 64 KiB high-water mark makes a
 * 5 MB message wait behind backpressure for about 800 ms.
 */
import { describe, expect, it } from 'vitest';
import { createMesh } from '../../src/mesh/create-mesh.js';
import type { Logger } from '../../src/mesh/logger.js';
import { MESH_DEFAULTS, type MeshOptions } from '../../src/mesh/mesh-options.js';
import type { Room } from '../../src/mesh/types.js';
import { MemoryRelay } from '../../src/signaling-client/memory-signaling.js';
import { MemoryWire } from '../../src/transport/memory.js';
import type { PeerTransport, PeerTransportFactory } from '../../src/transport/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { joinedPair, settle } from './support/joined-pair.js';

const BIG = 5 * 1024 * 1024;

/** `bytes` of a pattern that makes a reordered or cut message show. */
function pattern(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function network(options: Partial<MeshOptions> = {}) {
  const clock = new ManualClock();
  const wire = new MemoryWire({ clock, latencyMs: 10, maxMessageSize: 16 * 1024, lowWaterMark: 32 * 1024 });
  const relay = new MemoryRelay();
  const warnings: Array<{ message: string; detail?: Record<string, unknown> }> = [];
  const logger: Logger = { debug: () => {}, warn: (message, detail) => warnings.push({ message, detail }) };
  /** Peers whose outgoing channel stops moving: its buffer reads full for ever (a peer that never reads). */
  const stalled = new Set<string>();
  const transports = (id: string): PeerTransportFactory => ({
    create(o) {
      const t = wire.factory(id).create(o);
      const buffered = t.bufferedAmount.bind(t);
      (t as { bufferedAmount: PeerTransport['bufferedAmount'] }).bufferedAmount = (rel) => (stalled.has(id) ? 1 << 30 : buffered(rel));
      return t;
    },
  });
  const join = (id: string, extra: Partial<MeshOptions> = {}): Room =>
    createMesh({
      room: 'r',
      clock,
      signaling: relay.client('r', id),
      transports: transports(id),
      heartbeatIntervalMs: 60_000,
      peerTimeoutMs: 600_000,
      highWaterMarkBytes: 64 * 1024,
      logger,
      ...options,
      ...extra,
    });
  return { clock, wire, relay, warnings, stalled, join };
}

async function connected(options: Partial<MeshOptions> = {}) {
  const net = network(options);
  const { a, b } = await joinedPair(net.join, net.clock);
  /** What b heard, in order. */
  const heard: string[] = [];
  const got = new Map<string, Uint8Array[]>();
  for (const name of ['doc', 'chat']) {
    b.channel(name).on('message', ({ data }) => {
      heard.push(`${name} ${data.byteLength}`);
      got.set(name, [...(got.get(name) ?? []), data]);
    });
  }
  b.on('peer-left', ({ id, reason }) => heard.push(`peer-left ${id} ${reason}`));
  return { ...net, a, b, heard, got };
}

/** Run simulated time in steps until `done()` or `ms` have passed; the time it took. */
async function until(clock: ManualClock, done: () => boolean, ms: number, step = 10): Promise<number> {
  const start = clock.now();
  while (!done() && clock.now() - start < ms) await clock.advanceAsync(step);
  await settle();
  return clock.now() - start;
}

describe('leave() delivers what was queued before its goodbye', () => {
  it('a 5 MB message and a chat line queued behind backpressure reach the peer whole, before peer-left', async () => {
    const { clock, a, b, heard, got, warnings } = await connected({ farewellTimeoutMs: 1000 });
    const doc = pattern(BIG, 1);
    const outcomes: string[] = [];
    void a.channel('doc').send('b', doc).then(() => outcomes.push('doc sent'), (e) => outcomes.push(`doc ${e.code}`));
    void a.channel('chat').send('b', pattern(100, 2)).then(() => outcomes.push('chat sent'), (e) => outcomes.push(`chat ${e.code}`));
    expect(a.channel('doc').queuedBytes('b')).toBeGreaterThan(4 * 1024 * 1024); // behind backpressure
    let left = false;
    void a.leave().then(() => (left = true));
    expect(a.status).toBe('closed'); // at once, as before; the queue drains on
    const took = await until(clock, () => left, 4000);
    expect(heard).toEqual(['chat 100', `doc ${BIG}`, 'peer-left a left']);
    expect(Buffer.compare(got.get('doc')![0]!, doc)).toBe(0);
    expect(outcomes.sort()).toEqual(['chat sent', 'doc sent']);
    expect(warnings).toEqual([]);
    expect(took).toBeLessThan(MESH_DEFAULTS.farewellDrainMs); // the peer closed on the goodbye: no timeout
    await b.leave();
  });

  it('a peer that never drains: leave() resolves at farewellDrainMs, the queued messages reject with drain-timeout and a warning counts them', async () => {
    const { clock, a, b, heard, stalled, warnings } = await connected({ farewellDrainMs: 3000, farewellTimeoutMs: 0 });
    const outcomes: string[] = [];
    stalled.add('a'); // a's channel to b stops moving: nothing more is handed over
    for (const ch of ['doc', 'chat']) {
      void a.channel(ch).send('b', pattern(ch === 'doc' ? BIG : 100, 3)).then(() => outcomes.push(`${ch} sent`), (e) => outcomes.push(`${ch} ${e.code}`));
    }
    let left = false;
    void a.leave().then(() => (left = true));
    await clock.advanceAsync(2999);
    await settle();
    expect(left).toBe(false);
    expect(outcomes).toEqual([]);
    await clock.advanceAsync(1);
    await settle();
    expect(left).toBe(true); // (farewellTimeoutMs 0: closed with the goodbye)
    expect(outcomes.sort()).toEqual(['chat drain-timeout', 'doc drain-timeout']);
    expect(warnings).toEqual([
      { message: 'left with messages still queued: dropped', detail: { peer: 'b', messages: 2, bytes: BIG + 100, farewellDrainMs: 3000 } },
    ]);
    await clock.advanceAsync(20);
    await settle();
    // The goodbye still came, nothing half-delivered. Told by the relay that a left, b
    // probed it meanwhile; a answered, so b did not cut the connection as `vanished`.
    expect(heard).toEqual(['peer-left a left']);
    await b.leave();
  });

  it('with farewellDrainMs 0, what is queued is dropped and reported at once, as before this option', async () => {
    const { clock, a, b, heard, warnings } = await connected({ farewellDrainMs: 0, farewellTimeoutMs: 0 });
    let outcome = '';
    void a.channel('doc').send('b', pattern(BIG, 4)).then(() => (outcome = 'sent'), (e) => (outcome = e.code));
    await a.leave();
    expect(outcome).toBe('drain-timeout');
    expect(warnings.map((w) => w.detail?.messages)).toEqual([1]);
    await clock.advanceAsync(1000);
    await settle();
    expect(heard).toEqual(['peer-left a left']);
    await b.leave();
  });

  it('leave() twice during the drain gives the same promise; a send after leave() is refused, not queued behind the goodbye', async () => {
    const { clock, a, b, heard } = await connected();
    void a.channel('doc').send('b', pattern(BIG, 5)).catch(() => {});
    const first = a.leave();
    const second = a.leave();
    expect(second).toBe(first);
    await expect(a.channel('chat').send('b', pattern(10, 6))).rejects.toMatchObject({ code: 'closed' });
    let done = 0;
    void first.then(() => done++);
    void second.then(() => done++);
    await until(clock, () => done === 2, 4000);
    expect(done).toBe(2);
    expect(heard).toEqual([`doc ${BIG}`, 'peer-left a left']);
    await b.leave();
  });

  it('leave() called again from a peer-left or status listener of the first call gets its promise, not one resolved before the drain', async () => {
    const { clock, a, b, heard } = await connected({ farewellTimeoutMs: 1000 });
    void a.channel('doc').send('b', pattern(BIG, 9)).catch(() => {});
    // An app that leaves when its last peer goes, or on status closed, and then exits the process.
    const inner: Array<Promise<void>> = [];
    a.on('peer-left', () => inner.push(a.leave()));
    a.on('status', (s) => s === 'closed' && inner.push(a.leave()));
    const first = a.leave();
    expect(inner).toHaveLength(2);
    for (const p of inner) expect(p).toBe(first);
    let innerDone = 0;
    for (const p of inner) void p.then(() => innerDone++);
    await settle();
    expect(innerDone).toBe(0); // the queue to b still drains
    await until(clock, () => innerDone === 2, 4000);
    expect(heard).toEqual([`doc ${BIG}`, 'peer-left a left']); // b had it all before they resolved
    await b.leave();
  });

  it("leave() called from a 'leaving' listener gets the first call's promise, and the listeners after it still send ahead of the goodbye", async () => {
    const { clock, a, b, heard } = await connected({ farewellTimeoutMs: 1000 });
    let inner: Promise<void> | undefined;
    let statusThen = '';
    a.on('leaving', () => {
      inner = a.leave(); // registered first, as an app's listener often is
      statusThen = a.status;
    });
    // A later listener (a Yjs provider handing over its merged edits) still has open connections.
    const outcomes: string[] = [];
    a.on('leaving', () => void a.channel('chat').send('b', pattern(100, 10)).then(() => outcomes.push('sent'), (e) => outcomes.push(e.code)));
    const first = a.leave();
    expect(inner).toBe(first);
    expect(statusThen).toBe('connected');
    let done = false;
    void first.then(() => (done = true));
    await until(clock, () => done, 4000);
    expect(done).toBe(true);
    expect(outcomes).toEqual(['sent']);
    expect(heard).toEqual(['chat 100', 'peer-left a left']);
    await b.leave();
  });

  it('a peer that leaves meanwhile takes no more: the queue to it is given up on its goodbye, and leave() resolves at once', async () => {
    const { clock, a, b, heard, warnings } = await connected({ farewellTimeoutMs: 1000 });
    let outcome = '';
    void a.channel('doc').send('b', pattern(BIG, 7)).then(() => (outcome = 'sent'), (e) => (outcome = e.code));
    let done = 0;
    void a.leave().then(() => done++);
    void b.leave().then(() => done++); // nothing queued: its goodbye goes at once
    const took = await until(clock, () => done === 2, 10_000);
    expect(done).toBe(2);
    expect(took).toBeLessThanOrEqual(30); // b's goodbye, then one close each way; no timeout
    expect(outcome).toBe('peer-left'); // b's app would not have had it: it had left
    expect(heard).toEqual(['peer-left a closed']); // b's own leave(); nothing of a's after it
    expect(warnings).toEqual([]);
  });

  it('both with 5 MB queued to the other, leaving together: both drain, say goodbye and close without a timeout', async () => {
    const { clock, a, b, warnings } = await connected({ farewellTimeoutMs: 1000 });
    const outcomes: string[] = [];
    for (const [from, to] of [[a, 'b'], [b, 'a']] as const) {
      void from.channel('doc').send(to, pattern(BIG, 8)).then(() => outcomes.push(`${to} sent`), (e) => outcomes.push(`${to} ${e.code}`));
    }
    let done = 0;
    void a.leave().then(() => done++);
    void b.leave().then(() => done++);
    const drained = await until(clock, () => outcomes.length === 2, 10_000);
    const took = await until(clock, () => done === 2, 10_000);
    expect(done).toBe(2);
    expect(outcomes.sort()).toEqual(['a sent', 'b sent']);
    expect(took).toBeLessThanOrEqual(30); // the goodbyes cross; the initiating end closes at once
    expect(drained).toBeLessThan(MESH_DEFAULTS.farewellDrainMs);
    expect(warnings).toEqual([]);
  });

  it('during a relay outage the queue still drains over the peer connection, and a connection still forming does not hold leave() up', async () => {
    const { clock, relay, wire, join, a, b, heard } = await connected();
    wire.block('a', 'c'); // c joins, but a's connection to it never opens
    const c = join('c');
    await settle();
    await clock.advanceAsync(100);
    expect(a.peers.has('c')).toBe(false);
    relay.setUp(false);
    await settle();
    expect(a.status).toBe('reconnecting');
    void a.channel('doc').send('b', pattern(BIG, 8)).catch(() => {});
    let left = false;
    void a.leave().then(() => (left = true));
    await until(clock, () => left, 4000);
    expect(left).toBe(true);
    expect(heard).toEqual([`doc ${BIG}`, 'peer-left a left']);
    relay.setUp(true);
    const rest = Promise.all([b.leave(), c.leave()]);
    await clock.advanceAsync(2000);
    await rest;
  });
});
