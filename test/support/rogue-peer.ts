/**
 * A hostile peer for mesh tests: it speaks just enough signaling to answer a real mesh's
 * offers with raw in-memory transports, then sends whatever frames it likes.
 */
import { expect } from 'vitest';
import type { Logger } from '../../src/mesh/logger.js';
import { type MemoryNetwork, createMemoryNetwork } from '../../src/mesh/memory-network.js';
import type { MeshOptions } from '../../src/mesh/mesh-options.js';
import type { PeerTransport } from '../../src/transport/types.js';
import { ManualClock } from '../../src/util/clock.js';

/** The mesh `a` (on a ManualClock network with `mesh` options) and a rogue `z` connected to it. */
export async function rogueNextTo(mesh: Partial<MeshOptions>): Promise<{
  net: MemoryNetwork;
  a: ReturnType<MemoryNetwork['join']>;
  /** The rogue's transport of the latest session `a` offered. */
  rogue: () => PeerTransport;
  warnings: Array<{ message: string; detail?: Record<string, unknown> }>;
  /** Offers of new sessions `a` made to the rogue. */
  offers: () => number;
  signaling: ReturnType<MemoryNetwork['relay']['client']>;
}> {
  const warnings: Array<{ message: string; detail?: Record<string, unknown> }> = [];
  const logger: Logger = { debug: () => {}, warn: (message, detail) => warnings.push({ message, detail }) };
  const net = createMemoryNetwork({ clock: new ManualClock(), mesh: { maxMessageBytes: 100_000, ...mesh } });
  const a = net.join('r', { peerId: 'a', logger });
  const signaling = net.relay.client('r', 'z');
  let transport: PeerTransport | undefined;
  let offers = 0;
  signaling.on('signal', ({ from, data }) => {
    const env = data as { s?: string; d?: unknown };
    if (!env.s) return;
    if (!transport || (transport as { session?: string }).session !== env.s) {
      offers++;
      transport = net.wire.factory('z').create({ localId: 'z', remoteId: from, initiator: false });
      (transport as unknown as { session: string }).session = env.s;
      const session = env.s;
      transport.on('signal', (d) => signaling.sendSignal(from, { s: session, d }));
    }
    transport.signal(env.d);
  });
  signaling.join();
  await net.advance(100);
  expect(a.peers.has('z')).toBe(true);
  return { net, a, rogue: () => transport!, warnings, offers: () => offers, signaling };
}
