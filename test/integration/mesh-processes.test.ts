/**
 * Real WebRTC between real processes: 8 mesh peers, each its own Node process
 * (`peer-process.ts`), and the relay in its own process so it can be SIGKILLed.
 * The tests share the 8 processes and run in order (full mesh, relay outage, a peer
 * killed, the rest leave and their processes end) to keep the suite light on a 2-core
 * machine. The whole sequence runs once per Node WebRTC engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../support/net.js';
import { NODE_WEBRTC_ENGINES } from '../support/node-webrtc.js';
import { type PeerProcess, HUNG_EXIT_CODE, killAll, spawnPeers } from './support/peers.js';
import { RelayProcess } from './support/relay-process.js';

const N = 8;
const ROOM = 'processes';

describe.each(NODE_WEBRTC_ENGINES)(`${N} peers in separate processes over real WebRTC (%s)`, (engine) => {
  let relay: RelayProcess;
  let peers: PeerProcess[] = [];

  beforeAll(async () => {
    relay = new RelayProcess(await freePort());
    await relay.start();
    peers = await spawnPeers(N, engine);
  }, 120_000);

  afterAll(async () => {
    await killAll(peers);
    await relay?.kill();
  });

  const ids = () => peers.map((p) => p.selfId);
  const others = (p: PeerProcess) => ids().filter((id) => id !== p.selfId);

  /** Every peer in `group` has received `text` from every other peer of the group. */
  const everyoneGot = (group: PeerProcess[], text: (from: PeerProcess) => string) =>
    group.every((p) => group.filter((q) => q !== p).every((q) => p.of('message').some((m) => m.from === q.selfId && m.text === text(q))));

  it('form a full mesh: each sees the 7 others, one connection per pair, messages reach everyone', async () => {
    await Promise.all(peers.map((p) => p.join(relay.url, ROOM)));
    expect(peers.every((p) => p.of('join-failed').length === 0)).toBe(true);
    expect(new Set(ids()).size).toBe(N);
    const started = Date.now();
    await waitFor(() => peers.every((p) => p.connectedPeers().size === N - 1), 'full mesh', 90_000, 100);
    console.log(`${engine}: full mesh of ${N} processes ${Date.now() - started} ms after their joins were answered`);
    for (const p of peers) {
      expect([...p.connectedPeers()].sort()).toEqual(others(p).sort());
      // One connection per pair: each remote joined exactly once, none dropped on the way.
      expect(p.of('peer-joined')).toHaveLength(N - 1);
      expect(p.of('peer-left')).toHaveLength(0);
    }
    for (const p of peers) p.send({ cmd: 'broadcast', text: `hello from ${p.selfId}` });
    await waitFor(() => everyoneGot(peers, (q) => `hello from ${q.selfId}`), 'every hello everywhere', 30_000, 50);
  }, 180_000);

  it('keep the mesh working while the relay is SIGKILLed, and all rejoin when it is back on the same port', async () => {
    await relay.kill();
    await waitFor(() => peers.every((p) => p.lastStatus() === 'reconnecting'), 'everyone notices the relay is gone', 30_000, 50);
    for (const p of peers) p.send({ cmd: 'broadcast', text: `outage from ${p.selfId}` });
    await waitFor(() => everyoneGot(peers, (q) => `outage from ${q.selfId}`), 'messages during the outage', 30_000, 50);

    await relay.start();
    await waitFor(() => peers.every((p) => p.lastStatus() === 'connected'), 'everyone rejoined', 60_000, 100);
    const metrics = await waitFor(async () => {
      const m = await relay.metrics();
      return m.connections === N && m.rooms === 1 ? m : undefined;
    }, 'relay metrics show all 8 peers in one room', 30_000, 100);
    expect(metrics?.connections).toBe(N);
    for (const p of peers) {
      expect(p.of('peer-left')).toHaveLength(0); // no peer connection was lost to the outage
      expect(p.of('error')).toHaveLength(0);
    }
    // Rejoined under the same ids: a new peer-to-peer message still reaches everyone.
    for (const p of peers) p.send({ cmd: 'broadcast', text: `after from ${p.selfId}` });
    await waitFor(() => everyoneGot(peers, (q) => `after from ${q.selfId}`), 'messages after the restart', 30_000, 50);
  }, 180_000);

  it('report a SIGKILLed peer as peer-left within 3 s on every other peer', async () => {
    const victim = peers[N - 1]!;
    const survivors = peers.slice(0, N - 1);
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    await waitFor(() => survivors.every((p) => p.of('peer-left').some((e) => e.id === victim.selfId)), 'peer-left everywhere', 30_000, 50);
    const delays = survivors.map((p) => Number(p.of('peer-left').find((e) => e.id === victim.selfId)!.t) - killedAt);
    console.log(`${engine}: peer-left after SIGKILL, ms: ${delays.join(', ')} (max ${Math.max(...delays)})`);
    for (const d of delays) expect(d).toBeLessThan(3000);
    for (const p of survivors) expect(p.connectedPeers().size).toBe(N - 2);
  }, 120_000);

  it('leave, and then each process\'s event loop empties on its own (no native handle keeps it alive)', async () => {
    const survivors = peers.filter((p) => p.alive);
    expect(survivors).toHaveLength(N - 1);
    const exits = await Promise.all(survivors.map((p) => p.exitOnItsOwn()));
    console.log(`${engine}: processes ended on their own after leaving, ms: ${exits.map((e) => e.ms).join(', ')}`);
    for (const e of exits) {
      expect(e.code, `exit code ${e.code} (${HUNG_EXIT_CODE}: still alive after its watchdog), signal ${e.signal}`).toBe(0);
    }
  }, 60_000);
});
