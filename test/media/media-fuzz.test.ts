/**
 * Seeded fuzz of media negotiation over real @roamhq/wrtc: three peers publish and stop
 * streams, throw their media share away and make a new one, and leave and rejoin the
 * room, in a random order with random gaps (so offers cross, and messages meet
 * connections that were just replaced). Once they stop, every peer must show exactly the
 * streams the others share, each with frames arriving. A failing seed is printed; replay
 * it with MEDIA_FUZZ_SEED=<seed>. MEDIA_FUZZ_SEEDS (default 6) sets how many run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork, type MemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { createMediaShare, type MediaShare } from '../../src/media/index.js';
import { createRng, type Rng } from '../../src/util/rng.js';
import { frameCounter, syntheticCamera, until, wrtc } from './support/wrtc-media.js';

const STEPS = 14;
const seeds = process.env.MEDIA_FUZZ_SEED ? [Number(process.env.MEDIA_FUZZ_SEED)] : Array.from({ length: Number(process.env.MEDIA_FUZZ_SEEDS ?? 6) }, (_, i) => 1000 + i);

interface Peer {
  name: string;
  room: Room;
  media: MediaShare;
  /** What this peer shares now, by label. */
  shared: Map<string, { stop: () => void }>;
}

const stops: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

function join(net: MemoryNetwork, name: string, generation: number): Peer {
  const room = net.join('fuzz', { peerId: `${name}${generation}` });
  const peer: Peer = { name, room, media: share(room), shared: new Map() };
  stops.push(async () => {
    peer.media.destroy();
    await room.leave();
  });
  return peer;
}

/** A media share; MEDIA_FUZZ_DEBUG=1 prints its warnings and errors. */
function share(room: Room): MediaShare {
  const debug = !!process.env.MEDIA_FUZZ_DEBUG;
  const logger = debug ? { debug: () => {}, warn: (m: string, d?: object) => console.log(room.selfId, m, d) } : silentLogger();
  const media = createMediaShare(room, { wrtc, logger });
  if (debug) media.on('error', (e) => console.log(room.selfId, 'error', e.code, e.message));
  return media;
}

let labels = 0;
function publish(peer: Peer): void {
  const camera = syntheticCamera();
  stops.push(camera.stop);
  const label = `${peer.name}-cam${labels++}`;
  peer.shared.set(label, { stop: peer.media.publish(camera.stream, { label }) });
  // Kept so a new share can publish it again (the same stream, as an app would).
  (peer.shared.get(label) as { stream?: MediaStream }).stream = camera.stream;
}

async function step(rng: Rng, net: MemoryNetwork, peers: Peer[], generation: { n: number }, log: string[]): Promise<void> {
  const i = rng.int(peers.length);
  const peer = peers[i]!;
  const roll = rng.next();
  if (roll < 0.35 && peer.shared.size < 2) {
    publish(peer);
    log.push(`${peer.room.selfId} publishes`);
  } else if (roll < 0.6 && peer.shared.size > 0) {
    const [label, entry] = [...peer.shared][rng.int(peer.shared.size)]!;
    entry.stop();
    peer.shared.delete(label);
    log.push(`${peer.room.selfId} stops ${label}`);
  } else if (roll < 0.8) {
    peer.media.destroy();
    peer.media = share(peer.room);
    const again = [...peer.shared].map(([label, e]) => [label, (e as { stream?: MediaStream }).stream!] as const);
    peer.shared.clear();
    for (const [label, stream] of again) peer.shared.set(label, { stop: peer.media.publish(stream, { label }), ...{ stream } });
    log.push(`${peer.room.selfId} makes a new share (${again.length} streams)`);
  } else {
    for (const e of peer.shared.values()) e.stop();
    peer.media.destroy();
    await peer.room.leave();
    const id = peer.room.selfId;
    peers[i] = join(net, peer.name, ++generation.n);
    log.push(`${id} leaves, rejoins as ${peer.name}${generation.n}`);
  }
  await new Promise((r) => setTimeout(r, rng.int(4) === 0 ? 0 : rng.int(150)));
}

/** Each peer's view: the (peer id, label) pairs it shows, sorted. */
const shows = (p: Peer) => p.media.remoteStreams().map((s) => `${s.peerId}:${s.label}`).sort();
/** What each peer should show: every other peer's shared labels. */
const expected = (p: Peer, peers: Peer[]) => peers.filter((q) => q !== p).flatMap((q) => [...q.shared.keys()].map((l) => `${q.room.selfId}:${l}`)).sort();

describe('media negotiation fuzz (@roamhq/wrtc)', () => {
  for (const seed of seeds) {
    it(`seed ${seed}: after random publishes, stops, new shares and rejoins, everyone shows what the others share`, async () => {
      const rng = createRng(seed);
      const net = createMemoryNetwork({ seed, mesh: { logger: silentLogger() } });
      const generation = { n: 0 };
      const peers = ['a', 'b', 'c'].map((name) => join(net, name, 0));
      const log: string[] = [];
      try {
        await until('the mesh', () => peers.every((p) => p.room.peers.size === 2));
        for (let s = 0; s < STEPS; s++) {
          await step(rng, net, peers, generation, log);
          await until('the mesh after a step', () => peers.every((p) => p.room.peers.size === 2));
        }
        if (peers.every((p) => p.shared.size === 0)) publish(peers[0]!); // something to check
        await until('every peer shows what the others share', () => peers.every((p) => shows(p).join() === expected(p, peers).join()), 20_000);
        for (const p of peers) {
          for (const remote of p.media.remoteStreams()) {
            const counter = frameCounter(remote.stream);
            stops.push(counter.stop);
            await until(`frames of ${remote.label} at ${p.room.selfId}`, () => counter.frames() >= 3);
          }
        }
      } catch (err) {
        console.error(`media fuzz seed ${seed} failed (replay: MEDIA_FUZZ_SEED=${seed}); steps:\n  ${log.join('\n  ')}\n` + peers.map((p) => `  ${p.room.selfId} shows [${shows(p)}], expected [${expected(p, peers)}]`).join('\n'));
        throw err;
      }
      expect(peers.map(shows)).toEqual(peers.map((p) => expected(p, peers)));
    }, 90_000);
  }
});
