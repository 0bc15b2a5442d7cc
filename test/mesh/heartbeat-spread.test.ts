import { describe, expect, it } from 'vitest';
import { Connection, type ConnectionHooks, heartbeatPhase } from '../../src/mesh/connection.js';
import { decodeFrame } from '../../src/mesh/frame.js';
import type { PeerTransport, PeerTransportEvents, Reliability } from '../../src/transport/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';

/** A transport that records when each frame was sent. */
function fakeTransport(remoteId: string, clock: ManualClock, log: Array<{ to: string; at: number; kind: string }>) {
  const events = new Emitter<PeerTransportEvents>();
  const t: PeerTransport & { events: Emitter<PeerTransportEvents> } = {
    events,
    remoteId,
    initiator: true,
    maxMessageSize: 64 * 1024,
    lowWaterMark: 256 * 1024,
    signal() {},
    send(_r: Reliability, data: Uint8Array) {
      log.push({ to: remoteId, at: clock.now(), kind: decodeFrame(data).kind });
    },
    bufferedAmount: () => 0,
    on: (event, listener) => events.on(event, listener),
    destroy() {},
  };
  return t;
}

const noHooks: ConnectionHooks = {
  onSignal() {},
  onOpen() {},
  onGone() {},
  onMessage() {},
  onRtt() {},
  onBye() {},
  onBad() {},
  onTransportError() {},
};

describe('heartbeat spread', () => {
  it('phases are stable per peer, inside the interval, and spread out', () => {
    const ids = Array.from({ length: 15 }, (_, i) => `peer-${i}`);
    const phases = ids.map((id) => heartbeatPhase(id, 500));
    expect(phases).toEqual(ids.map((id) => heartbeatPhase(id, 500)));
    for (const p of phases) expect(p >= 0 && p < 500).toBe(true);
    expect(new Set(phases).size).toBeGreaterThan(10);
  });

  it('one tick to 15 connections sends their pings at different times, one interval apart each', () => {
    const clock = new ManualClock();
    const log: Array<{ to: string; at: number; kind: string }> = [];
    const conns = Array.from({ length: 15 }, (_, i) => {
      const t = fakeTransport(`peer-${i}`, clock, log);
      const c = new Connection(t, 's', { clock, maxMessageBytes: 1 << 20, maxQueuedBytes: 1 << 20 }, noHooks);
      t.events.emit('open', undefined);
      return c;
    });
    for (let tick = 0; tick < 3; tick++) {
      for (const c of conns) c.heartbeat(500);
      clock.advance(500);
    }
    const pings = log.filter((l) => l.kind === 'ping');
    expect(pings).toHaveLength(45);
    const firstRound = pings.filter((p) => p.at < 500).map((p) => p.at);
    expect(firstRound).toHaveLength(15);
    expect(new Set(firstRound).size).toBeGreaterThan(10);
    for (let i = 0; i < 15; i++) {
      const times = pings.filter((p) => p.to === `peer-${i}`).map((p) => p.at);
      expect(times).toEqual([0, 500, 1000].map((t) => t + heartbeatPhase(`peer-${i}`, 500)));
    }
    // A disposed connection's pending ping never goes out.
    for (const c of conns) c.heartbeat(500);
    for (const c of conns) c.dispose('test');
    const before = log.length;
    clock.advance(1000);
    expect(log.length).toBe(before);
  });
});
