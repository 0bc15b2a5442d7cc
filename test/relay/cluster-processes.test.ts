/**
 * A relay cluster of real processes (`meshparty signal --redis`), one redis-server: two
 * Node peers (real WebRTC, joinRoom) on different instances connect and talk; then one
 * instance is SIGKILLed, and its peers are announced as left on the other within the
 * documented bound (instance TTL + heartbeat), their resume keys kept there; one that
 * comes straight back through the other instance keeps its id without the room noticing.
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { joinRoom } from '../../src/index.js';
import type { Room } from '../../src/mesh/types.js';
import { freePort, waitFor } from '../support/net.js';
import { spawnNode, type CapturedProcess } from '../support/node-process.js';
import { nodeWebRtc } from '../support/node-webrtc.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { RelayTestClient } from './client.js';
import { joinKnowing } from './cluster-support.js';

const HEARTBEAT_MS = 200;
const TTL_MS = 1500;
const KEY = 'owner-key-0123456789abc';
const PHOENIX_KEY = 'phoenix-key-0123456789ab';
const wrtc = await nodeWebRtc('wrtc');
const quiet = { debug: () => {}, warn: () => {} };

const relays: CapturedProcess[] = [];
const rooms: Room[] = [];
const clients: RelayTestClient[] = [];
let redis: TestRedis | undefined;
afterEach(async () => {
  await Promise.all(rooms.splice(0).map((r) => r.leave()));
  for (const c of clients.splice(0)) c.close();
  for (const r of relays.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await redis?.stop();
});

/** A relay process in the cluster; resolves with its URL once it listens. */
async function relayProcess(url: string): Promise<{ proc: CapturedProcess; url: string }> {
  const args = ['bin/meshparty.js', 'signal', '--port', '0', '--redis', url, '--cluster-heartbeat-ms', String(HEARTBEAT_MS), '--instance-ttl-ms', String(TTL_MS)];
  const proc = spawnNode(args);
  relays.push(proc);
  const wsUrl = await proc.waitForOutput((out) => /listening on (ws:\/\/\S+)/.exec(out)?.[1], 'the relay to listen');
  return { proc, url: wsUrl };
}

async function client(url: string): Promise<RelayTestClient> {
  const c = await RelayTestClient.open(url);
  clients.push(c);
  return c;
}

describe('relay cluster: separate processes', () => {
  it('peers on two instances connect over WebRTC; a SIGKILLed instance\'s peers vanish within the bound', async () => {
    redis = await startRedis();
    const one = await relayProcess(redis.url);
    const two = await relayProcess(redis.url);

    const join = async (relay: string): Promise<Room> => {
      const room = await joinRoom({ room: 'cluster', relay, wrtc, WebSocket, logger: quiet, backoff: { initialMs: 20, maxMs: 50 } });
      rooms.push(room);
      return room;
    };
    const a = await join(one.url);
    const b = await join(two.url);
    await waitFor(() => a.peers.has(b.selfId) && b.peers.has(a.selfId), 'a and b connected over WebRTC', 30_000);
    const got = new Promise<string>((res) => b.channel('hello').on('message', ({ data }) => res(new TextDecoder().decode(data))));
    await a.channel('hello').send(b.selfId, new TextEncoder().encode('across instances'));
    expect(await got).toBe('across instances');

    // A raw member with a resume key on instance one, watched from instance two.
    const ghost = await client(one.url);
    await ghost.join('r', { peerId: 'ghost', resumeKey: KEY });
    const phoenix = await client(one.url);
    await phoenix.join('r', { peerId: 'phoenix', resumeKey: PHOENIX_KEY });
    const watcher = await client(two.url);
    await joinKnowing(watcher, 'r', ['ghost', 'phoenix']);

    const killedAt = Date.now();
    one.proc.child.kill('SIGKILL');
    // phoenix comes straight back through instance two (as behind a load balancer) and
    // takes its id over from the dead instance: the room hears nothing of it.
    const back = await client(two.url);
    expect(await back.join('r', { peerId: 'phoenix', resumeKey: PHOENIX_KEY })).toMatchObject({ type: 'joined', peerId: 'phoenix' });
    expect(await watcher.nextOf('peer-left', undefined, TTL_MS + HEARTBEAT_MS + 10_000)).toMatchObject({ peerId: 'ghost' });
    expect(watcher.received.filter((m) => m.peerId === 'phoenix')).toEqual([]);
    // The bound from the last heartbeat is TTL + heartbeat; a loaded machine gets 3 s more.
    expect(Date.now() - killedAt).toBeLessThan(TTL_MS + HEARTBEAT_MS + 3000);
    // A newcomer on two does not list it; its key is kept there for its owner.
    const late = await client(two.url);
    const lateJoin = await late.join('r');
    expect(lateJoin.peers).not.toContain('ghost');
    expect(lateJoin.peers).toContain('phoenix');
    const squatter = await client(two.url);
    expect((await squatter.join('r', { peerId: 'ghost', resumeKey: 'squatter-key-0123456789' })).code).toBe('peer-id-taken');
    const owner = await client(two.url);
    expect(await owner.join('r', { peerId: 'ghost', resumeKey: KEY })).toMatchObject({ type: 'joined', peerId: 'ghost' });
    expect(two.proc.stderr()).toContain('"event":"cluster-instance-gone"');
  });

  it('a relay that cannot reach Redis at start says redis-unavailable and exits 1', async () => {
    const proc = spawnNode(['bin/meshparty.js', 'signal', '--port', '0', '--redis', `redis://127.0.0.1:${await freePort()}`]);
    relays.push(proc);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toMatch(/meshparty signal: redis-unavailable: /);
  });
});
