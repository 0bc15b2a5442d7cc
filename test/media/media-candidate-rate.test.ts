/**
 * The cap of 512 candidates on one connection starts again on every ICE restart, and a
 * peer may restart once every 3 s: alone it let a peer hand our engine ~170 candidates a
 * second for good, each checked with STUN requests to the address it names. Candidates
 * are also rated per peer, across its connections and restarts (256 in a row, then one
 * every 250 ms); the one past that is a bad message, and 16 of those disconnect the peer.
 * Honest peers, on new connections and ICE restarts, stay far inside.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { createMediaShare, type MediaShare, type RemoteMediaStream } from '../../src/media/index.js';
import { type MediaMessage, MEDIA_LIMITS, encodeMediaMessage } from '../../src/media/media-wire.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { honestCamera, realOffer, shareAndRawPeer, watchedWrtc } from './support/raw-peer.js';
import { cuttablePath } from './support/udp-path.js';
import { frameCounter, syntheticCamera, until, wrtc } from './support/wrtc-media.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** The address of the hostile peer's candidates (10.x.x.1): honest ones here never name one. */
const FLOODED = / 10\.\d+\.\d+\.1 /;

/**
 * `base` whose connections count the remote candidates handed to them: the flood's
 * (`flooded`), and the rest each connection on its own (`honest`, in the order made).
 */
function countingCandidates(base: typeof wrtc = wrtc) {
  const counts = { honest: [] as number[], flooded: 0 };
  const engine = watchedWrtc((pc) => {
    const n = counts.honest.push(0) - 1;
    const add = pc.addIceCandidate.bind(pc);
    pc.addIceCandidate = ((c: RTCIceCandidateInit) => {
      if (FLOODED.test(c.candidate ?? '')) counts.flooded++;
      else counts.honest[n]!++;
      return add(c);
    }) as typeof pc.addIceCandidate;
  }, base);
  return { counts, engine };
}

/**
 * The raw peer `x` flooding `a` (its share on channel `media`) with candidates: `round(r)`
 * sends an offer (r 0: x's first; after that each an ICE restart, new credentials) and
 * then `n` candidates, while x is in a's room; `run()` sends every round ICE restarts'
 * own rate lets through in a row, until a disconnects x.
 */
async function candidateFlood(x: Room, a: Room) {
  const raw = x.channel('media');
  const offer = await realOffer();
  const send = (message: MediaMessage) => raw.send('a', encodeMediaMessage(message)).catch(() => undefined);
  let sent = 0;
  const round = async (r: number, n = 125) => {
    const id = String(r).padStart(4, '0');
    const sdp = r === 0 ? offer : offer.replace(/a=ice-ufrag:\S+/g, `a=ice-ufrag:r${id}`).replace(/a=ice-pwd:\S+/g, `a=ice-pwd:restartedpassword${id}xyz`);
    await send({ v: 1, t: 'offer', s: 'x1', to: '', sdp });
    for (let i = 0; i < n && a.peers.has('x'); i++, sent++) {
      const candidate = `candidate:${sent} 1 udp 2122260223 10.${(sent >> 8) & 255}.${sent & 255}.1 ${10_000 + sent} typ host generation 0`;
      await send({ v: 1, t: 'candidate', s: 'x1', to: '', candidate, sdpMid: '0', sdpMLineIndex: 0 });
    }
  };
  return {
    round,
    sent: () => sent,
    async run(from = 0) {
      // 125 per round: never near 512 on one connection.
      for (let r = from; r < MEDIA_LIMITS.maxIceRestarts && a.peers.has('x'); r++) await round(r);
      await until('x disconnected', () => !a.peers.has('x'), 5_000);
    },
  };
}

/** The refusals a flood from x got: exactly 16, each for the rate, then x was cut off. */
function expectFloodRefused(errors: MeshpartyError[]) {
  const refused = errors.filter((e) => e.detail?.peer === 'x');
  expect(refused).toHaveLength(16);
  expect(refused.every((e) => e.code === 'bad-message' && e.detail?.reason === `candidate: more than ${MEDIA_LIMITS.maxCandidatesInRow} candidates in a row`)).toBe(true);
}

/** The most candidates an honest peer here may send one connection: far inside what it may send in a row. */
const headroom = () => MEDIA_LIMITS.maxCandidatesInRow / 8;

describe('candidates one peer sends across ICE restarts', () => {
  it('past 256 in a row (then one every 250 ms) are refused though each restart starts the count per connection again, the peer is disconnected, and an honest share keeps flowing', async () => {
    const { counts, engine } = countingCandidates();
    const setup = await shareAndRawPeer(121, cleanups, engine);
    const { a, x, errors } = setup;
    const frames = await honestCamera(setup, cleanups);
    const flood = await candidateFlood(x, a);

    const started = Date.now();
    await flood.round(0);
    await flood.round(1);
    // All added, none refused: those that waited behind their offer were counted once.
    await until('250 candidates added', () => counts.flooded === 250);
    expect(errors).toEqual([]);
    await flood.run(2);
    const ms = Date.now() - started;

    expectFloodRefused(errors);
    expect(counts.flooded).toBeLessThanOrEqual(MEDIA_LIMITS.maxCandidatesInRow + Math.ceil(ms / MEDIA_LIMITS.candidateRefillMs));
    expect(flood.sent()).toBeLessThan(MEDIA_LIMITS.maxIceRestarts * 125);

    // b was never refused anything, and its camera still reaches a.
    expect(errors.filter((e) => e.detail?.peer !== 'x')).toEqual([]);
    expect(a.peers.has('b')).toBe(true);
    const after = frames.frames();
    await until("b's frames at a after the flood", () => frames.frames() >= after + 10);
  }, 60_000);
});

describe('honest candidates', () => {
  it('three peers sharing cameras over every interface, offers crossing, while another floods: none of theirs refused, each connection far inside the rate', async () => {
    const net = createMemoryNetwork({ seed: 122, mesh: { logger: silentLogger(), maxStrikes: Infinity } }); // the share's own limits are tested (see support/raw-peer.ts)
    const ids = ['a', 'b', 'c'] as const;
    const errors: MeshpartyError[] = [];
    const peers = ids.map((id) => {
      const room = net.join('call', { peerId: id });
      const { counts, engine } = countingCandidates();
      const media = createMediaShare(room, { wrtc: engine, logger: silentLogger() });
      const camera = syntheticCamera();
      const shown: RemoteMediaStream[] = [];
      media.on('error', (e) => errors.push(e));
      media.on('stream-added', (s) => shown.push(s));
      cleanups.push(async () => {
        camera.stop();
        media.destroy();
        await room.leave();
      });
      return { room, media, camera, counts, shown };
    });
    const x = net.join('call', { peerId: 'x' });
    cleanups.push(() => x.leave());
    await until('the mesh', () => peers.every((p) => p.room.peers.size === 3));
    const flood = await candidateFlood(x, peers[0]!.room);
    for (const p of peers) p.media.publish(p.camera.stream, { label: 'camera' });
    // x floods a while the three negotiate: the allowance is each peer's own.
    await flood.run();
    await until('every camera everywhere', () => peers.every((p) => p.shown.length === 2), 30_000);
    for (const p of peers) {
      for (const remote of p.shown) {
        const frames = frameCounter(remote.stream);
        cleanups.push(frames.stop);
        await until(`frames of ${remote.peerId} at ${p.room.selfId}`, () => frames.frames() >= 3, 20_000);
      }
    }

    expectFloodRefused(errors);
    expect(errors.filter((e) => e.detail?.peer !== 'x')).toEqual([]);
    for (const p of peers) {
      expect(p.counts.honest.reduce((m, n) => m + n, 0)).toBeGreaterThan(0);
      for (const n of p.counts.honest) expect(n).toBeLessThanOrEqual(headroom());
    }
  }, 60_000);

  it('an honest ICE restart (the path dies, the connection stays down) while another peer floods: none of theirs refused, frames flow again, far inside the rate', async () => {
    const net = createMemoryNetwork({ seed: 123, mesh: { logger: silentLogger(), maxStrikes: Infinity } }); // the share's own limits are tested (see support/raw-peer.ts)
    const errors: MeshpartyError[] = [];
    const side = (id: 'a' | 'b') => {
      const path = cuttablePath();
      const room = net.join('call', { peerId: id });
      const { counts, engine } = countingCandidates(path.wrtc);
      const media: MediaShare = createMediaShare(room, { wrtc: engine, logger: silentLogger() });
      media.on('error', (e) => errors.push(e));
      cleanups.push(async () => {
        media.destroy();
        path.close();
        await room.leave();
      });
      return { path, room, media, counts };
    };
    const a = side('a');
    const b = side('b');
    const x = net.join('call', { peerId: 'x' });
    cleanups.push(() => x.leave());
    const camera = syntheticCamera();
    cleanups.push(camera.stop);
    const shown: RemoteMediaStream[] = [];
    a.media.on('stream-added', (s) => shown.push(s));
    await until('the mesh', () => a.room.peers.size === 2 && b.room.peers.size === 2);
    const flood = await candidateFlood(x, a.room);
    b.media.publish(camera.stream, { label: 'camera' });
    await until('the camera at a', () => shown.length === 1);
    const frames = frameCounter(shown[0]!.stream);
    cleanups.push(frames.stop);
    await until('frames at a', () => frames.frames() >= 5);
    const honest = () => [...a.counts.honest, ...b.counts.honest];
    const before = honest().reduce((m, n) => m + n, 0);

    a.path.cut();
    b.path.cut();
    await until('the media connection failing', () => errors.some((e) => e.code === 'media-connection-failed'), 45_000);
    // x floods a while a and b restart ICE.
    await flood.run();
    const atFailure = frames.frames();
    await until('frames flowing again after the ICE restart', () => frames.frames() >= atFailure + 30, 20_000);

    expectFloodRefused(errors);
    expect(errors.filter((e) => e.detail?.peer !== 'x').every((e) => e.code === 'media-connection-failed')).toBe(true);
    // The restart's candidates came, and both gatherings together stay far inside.
    expect(honest().reduce((m, n) => m + n, 0)).toBeGreaterThan(before);
    for (const n of honest()) expect(n).toBeLessThanOrEqual(headroom());
  }, 90_000);
});
