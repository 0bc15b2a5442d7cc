/**
 * Leaving on purpose: `leave()` sends each peer a goodbye and lets that peer close the
 * connection, closing it itself only after `farewellTimeoutMs` (see MeshOptions for the
 * native race this avoids; `leave-while-sending.test.ts` runs it over real WebRTC).
 */
import { describe, expect, it } from 'vitest';
import { BOTH_LEAVING_WAIT_MS } from '../../src/mesh/connection.js';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { shouldInitiate } from '../../src/mesh/glare.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { MESH_DEFAULTS } from '../../src/mesh/mesh-options.js';
import type { Room } from '../../src/mesh/types.js';
import { MemoryRelay } from '../../src/signaling-client/memory-signaling.js';
import { MemoryWire } from '../../src/transport/memory.js';
import type { PeerTransport, PeerTransportFactory } from '../../src/transport/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { joinedPair, settle } from './support/joined-pair.js';

/** What happened to one peer's transports: who destroyed them, what they sent, when they closed. */
interface Log {
  destroyed: number;
  closed: number;
  /** First byte (frame kind) of each frame sent. */
  kinds: number[];
}

function pair(farewellTimeoutMs?: number, closeNeverArrivesFrom?: string) {
  const clock = new ManualClock();
  const wire = new MemoryWire({ clock, latencyMs: 10 });
  const relay = new MemoryRelay();
  const logs: Record<string, Log> = {};
  const recorded = (id: string): PeerTransportFactory => ({
    create(o) {
      const log: Log = (logs[id] = { destroyed: 0, closed: 0, kinds: [] });
      const t = wire.factory(id).create(o);
      const send = t.send.bind(t);
      const destroy = t.destroy.bind(t);
      (t as { send: PeerTransport['send'] }).send = (rel, data) => {
        log.kinds.push(data[0]!);
        send(rel, data);
      };
      (t as { destroy: PeerTransport['destroy'] }).destroy = (err) => {
        log.destroyed++;
        // A process that exits right after leaving can take its close with it.
        if (id !== closeNeverArrivesFrom) destroy(err);
      };
      t.on('close', () => log.closed++);
      return t;
    },
  });
  const join = (id: string): Room =>
    createMesh({ room: 'r', clock, signaling: relay.client('r', id), transports: recorded(id), heartbeatIntervalMs: 60_000, peerTimeoutMs: 600_000, logger: silentLogger(), farewellTimeoutMs });
  return { clock, wire, logs, join };
}

async function connected(farewellTimeoutMs?: number, closeNeverArrivesFrom?: string) {
  const p = pair(farewellTimeoutMs, closeNeverArrivesFrom);
  const { a, b } = await joinedPair(p.join, p.clock);
  const left: string[] = [];
  b.on('peer-left', ({ id, reason }) => left.push(`${id} ${reason}`));
  let done = false;
  return { ...p, a, b, left, leave: () => void a.leave().then(() => (done = true)), done: () => done };
}

const BYE = 0x12;

describe('leave(): goodbye first, and the remote closes', () => {
  it('sends BYE and nothing after it, the remote closes its end, and leave() resolves once the connection is gone', async () => {
    const { clock, logs, b, left, leave, done } = await connected();
    leave();
    await clock.advanceAsync(0);
    expect(logs.a!.kinds.at(-1)).toBe(BYE);
    const sentAtLeave = logs.a!.kinds.length;
    expect(done()).toBe(false); // the BYE is still on its way
    expect(logs.a!.destroyed).toBe(0);

    await clock.advanceAsync(10); // BYE arrives: b reports a goodbye and closes its end
    expect(left).toEqual(['a left']);
    expect(logs.b!.destroyed).toBe(1);
    await clock.advanceAsync(10); // b's close reaches a
    await settle();
    expect(logs.a!.closed).toBe(1);
    expect(done()).toBe(true);
    // a never closed the connection itself and sent nothing after its goodbye.
    expect(logs.a!.destroyed).toBe(0);
    expect(logs.a!.kinds).toHaveLength(sentAtLeave);
    expect(b.peers.size).toBe(0);
    await b.leave();
  });

  it('a second leave() resolves with the first, once the connection is gone', async () => {
    const { clock, a } = await connected();
    const order: string[] = [];
    void a.leave().then(() => order.push('first'));
    void a.leave().then(() => order.push('second'));
    await settle();
    expect(order).toEqual([]);
    await clock.advanceAsync(20);
    await settle();
    expect(order).toEqual(['first', 'second']);
  });

  it('closes the connection itself after farewellTimeoutMs when the remote never answers', async () => {
    const { clock, wire, logs, leave, done } = await connected();
    wire.disconnect('b'); // b's network is gone: the goodbye never arrives
    leave();
    await clock.advanceAsync(MESH_DEFAULTS.farewellTimeoutMs - 1);
    expect(done()).toBe(false);
    expect(logs.a!.destroyed).toBe(0);
    await clock.advanceAsync(1);
    await settle();
    expect(done()).toBe(true);
    expect(logs.a!.destroyed).toBe(1);
  });

  it('when both leave together, the initiating end closes on the other\'s BYE, the other when that close arrives, before the timeout', async () => {
    const { clock, logs, a, b } = await connected();
    let aDone = false;
    let bDone = false;
    const started = clock.now();
    void a.leave().then(() => (aDone = true));
    void b.leave().then(() => (bDone = true));
    await clock.advanceAsync(10); // each BYE arrives: the initiating end closes
    await clock.advanceAsync(10); // that close reaches the other end
    await settle();
    expect([aDone, bDone]).toEqual([true, true]);
    expect(clock.now() - started).toBeLessThan(MESH_DEFAULTS.farewellTimeoutMs);
    // Only one end closed it (two ends closing at once is the race leave() avoids).
    const aCloses = shouldInitiate('a', 'b');
    expect([logs.a!.destroyed, logs.b!.destroyed]).toEqual(aCloses ? [1, 0] : [0, 1]);
    expect([logs.a!.closed, logs.b!.closed]).toEqual([1, 1]);
    expect([logs.a!.kinds.at(-1), logs.b!.kinds.at(-1)]).toEqual([BYE, BYE]);
  });

  it('when both leave together and the first close never arrives, the other end closes after BOTH_LEAVING_WAIT_MS, not the full timeout', async () => {
    const closer = shouldInitiate('a', 'b') ? 'a' : 'b';
    const { clock, logs, a, b } = await connected(undefined, closer);
    const doneAt: Record<string, number> = {};
    const started = clock.now();
    void a.leave().then(() => (doneAt.a = clock.now() - started));
    void b.leave().then(() => (doneAt.b = clock.now() - started));
    const other = closer === 'a' ? 'b' : 'a';
    await clock.advanceAsync(10 + BOTH_LEAVING_WAIT_MS - 1); // the BYEs crossed at 10 ms
    await settle();
    expect(logs[other]!.destroyed).toBe(0);
    await clock.advanceAsync(1);
    await settle();
    expect(logs[other]!.destroyed).toBe(1);
    expect(doneAt[other]).toBe(10 + BOTH_LEAVING_WAIT_MS);
    expect(BOTH_LEAVING_WAIT_MS).toBeLessThan(MESH_DEFAULTS.farewellTimeoutMs);
  });

  it('with farewellTimeoutMs 0, sends BYE and closes at once', async () => {
    const { clock, logs, left, leave, done } = await connected(0);
    leave();
    await settle();
    expect(done()).toBe(true);
    expect(logs.a!.kinds.at(-1)).toBe(BYE);
    expect(logs.a!.destroyed).toBe(1);
    await clock.advanceAsync(10);
    expect(left).toEqual(['a left']); // the BYE still arrives first, as over an orderly close
  });
});
