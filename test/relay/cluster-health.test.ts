/**
 * What an operator sees of a relay's cluster on `GET /health`, `GET /metrics` and
 * `relay.metrics()`: the instance's id and whether it is connected to Redis, turning
 * false when Redis is lost and true again once the instance has synced on its return.
 * `/health` stays 200 throughout (the instance still serves its own members).
 */
import { describe, expect, it } from 'vitest';
import type { ClusterHealth, RelayMetrics } from '../../signaling/index.js';
import { waitFor } from '../support/net.js';
import { clusterStoppedAfterEach, type ClusterRelay } from './cluster-support.js';

const cluster = clusterStoppedAfterEach();

const httpUrl = (r: ClusterRelay, path: string): string => r.relay.address.url.replace(/^ws:/, 'http:') + path;

async function seen(r: ClusterRelay): Promise<{ health: { status: number; body: { ok: boolean; cluster?: ClusterHealth } }; metrics: RelayMetrics }> {
  const health = await fetch(httpUrl(r, '/health'));
  const metrics = (await (await fetch(httpUrl(r, '/metrics'))).json()) as RelayMetrics;
  return { health: { status: health.status, body: (await health.json()) as { ok: boolean; cluster?: ClusterHealth } }, metrics };
}

describe('relay cluster: health and metrics', () => {
  it('show each instance, connected; not connected while Redis is away; connected again once back and synced', async () => {
    const redis = await cluster.redis();
    const [a, b] = [await cluster.relay(redis), await cluster.relay(redis)];
    const ids = [a, b].map((r) => r.relay.metrics().cluster?.instanceId);
    expect(ids[0]).toEqual(expect.any(String));
    expect(ids[0]).not.toBe(ids[1]);
    for (const [i, r] of [a, b].entries()) {
      const { health, metrics } = await seen(r);
      expect(health).toEqual({ status: 200, body: { ok: true, cluster: { instanceId: ids[i], connected: true } } });
      expect(metrics.cluster).toEqual({ instanceId: ids[i], connected: true });
    }

    await redis.stop();
    for (const [i, r] of [a, b].entries()) {
      await waitFor(() => r.relay.metrics().cluster?.connected === false, `instance ${i} to report Redis lost`);
      const { health, metrics } = await seen(r);
      expect(health).toEqual({ status: 200, body: { ok: true, cluster: { instanceId: ids[i], connected: false } } });
      expect(metrics.cluster).toEqual({ instanceId: ids[i], connected: false });
    }

    await redis.restart();
    for (const [i, r] of [a, b].entries()) {
      await waitFor(() => r.relay.metrics().cluster?.connected === true, `instance ${i} to report itself back`, 15_000);
      expect(r.clusterLogs.some((l) => l.event === 'cluster-synced')).toBe(true);
      expect((await seen(r)).health.body.cluster).toEqual({ instanceId: ids[i], connected: true });
    }
  });
});
