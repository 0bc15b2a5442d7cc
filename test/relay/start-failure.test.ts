/**
 * A relay that fails to start (an invalid option, a port in use) leaves the cluster it was
 * given: the relay owns it (its close() leaves it too), and a cluster left connected keeps
 * the process running after the error, still announced to the other instances.
 */
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { RelayCluster } from '../../signaling/cluster/relay-cluster.js';
import { createSignalingServer, silentLogger } from '../../signaling/index.js';
import { InMemoryRoomDirectory } from '../../signaling/room-directory.js';

/** A stand-in cluster that records whether it was left. */
function fakeCluster(): RelayCluster & { closed: number } {
  const cluster = {
    instanceId: 'i1',
    rooms: new InMemoryRoomDirectory(),
    topics: new InMemoryRoomDirectory(),
    resumeKeys: { owner: () => undefined, remember() {}, forget() {} },
    connected: true,
    closed: 0,
    close: async () => {
      cluster.closed++;
    },
  };
  return cluster;
}

describe('relay: a start that fails', () => {
  it('leaves its cluster when an option is refused', async () => {
    const cluster = fakeCluster();
    await expect(createSignalingServer({ port: 0, maxPeersPerRoom: 0, cluster, logger: silentLogger })).rejects.toThrow(/maxPeersPerRoom/);
    expect(cluster.closed).toBe(1);
  });

  it('leaves its cluster when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as { port: number };
      const cluster = fakeCluster();
      await expect(createSignalingServer({ host: '127.0.0.1', port, cluster, logger: silentLogger })).rejects.toThrow(/EADDRINUSE/);
      expect(cluster.closed).toBe(1);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
