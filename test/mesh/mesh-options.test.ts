/**
 * Mesh options out of range are refused up front with `bad-argument` naming the option,
 * instead of misbehaving later: a heartbeat of 0 ms spun the real clock and never let a
 * ManualClock move; a fractional or negative limit meant nothing sensible.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { resolveMeshOptions } from '../../src/mesh/mesh-options.js';
import { joinRoom } from '../../src/mesh/join-room.js';
import { ManualClock } from '../../src/util/clock.js';

const base = { room: 'r', signaling: {} as never, transports: {} as never };

describe('mesh options', () => {
  it.each([
    ['heartbeatIntervalMs', 0],
    ['heartbeatIntervalMs', Infinity],
    ['heartbeatIntervalMs', NaN],
    ['peerTimeoutMs', -1],
    ['maxPeers', 2.5],
    ['maxPeers', 0],
    ['maxMessageBytes', Infinity],
    ['farewellTimeoutMs', -5],
    ['farewellDrainMs', -1],
    ['maxStrikes', '3'],
    ['strikeExpiryMs', 0],
    ['banMs', 999], // a ban of (nearly) nothing: a peer an upper layer cuts off on each return would loop
    ['maxQueuedBytes', 0],
    ['highWaterMarkBytes', Infinity],
  ])('refuses %s = %s with bad-argument naming it', (name, value) => {
    expect(() => resolveMeshOptions({ ...base, [name]: value })).toThrow(expect.objectContaining({ code: 'bad-argument', message: expect.stringContaining(name) }));
  });

  it('takes values at the edges of their ranges, Infinity where it means never, and undefined as the default', () => {
    const o = resolveMeshOptions({
      ...base,
      heartbeatIntervalMs: 10,
      connectTimeoutMs: Infinity,
      peerTimeoutMs: Infinity,
      maxPeers: Infinity,
      farewellTimeoutMs: 0,
      maxStrikes: 1,
      maxQueuedBytes: undefined,
    });
    expect(o).toMatchObject({ heartbeatIntervalMs: 10, connectTimeoutMs: Infinity, maxPeers: Infinity, farewellTimeoutMs: 0, maxQueuedBytes: 256 * 1024 * 1024 });
  });

  it('a room with a 0 ms heartbeat is refused when made, on the simulated network and through joinRoom', async () => {
    const net = createMemoryNetwork({ clock: new ManualClock() });
    expect(() => net.join('r', { heartbeatIntervalMs: 0 })).toThrow(/heartbeatIntervalMs must be a number of at least 10, got 0/);
    await expect(joinRoom({ relay: 'ws://127.0.0.1:9', room: 'r', wrtc: {} as never, heartbeatIntervalMs: 0 })).rejects.toMatchObject({ code: 'bad-argument' });
    // The network still works for a valid peer.
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    await net.advance(2000);
    expect(a.peers.has('b') && b.peers.has('a')).toBe(true);
    await Promise.all([a.leave(), b.leave()]);
  });
});
