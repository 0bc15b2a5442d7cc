/**
 * A media connection whose network path dies (a laptop moving from one network to
 * another: its old addresses stop answering) goes 'failed' once ICE gives up, or stays
 * 'disconnected' for good, and stays dead: the engine checks no pair again. The share
 * reports `media-connection-failed` and restarts ICE (new credentials in a new offer over
 * the room, new candidates gathered), so media flows again on the same connection: the
 * stream is never removed and its frames resume. Only one side's ICE may give up (the
 * other still gets answers to its checks): the restart must come from whichever side
 * that is, polite or not (before, only the impolite side restarted, and only on 'failed').
 *
 * The path is real: every candidate the engines exchange is a UDP forwarder on loopback
 * (support/udp-path.ts), and the cut makes the forwarders of the old candidates drop what
 * one side sends.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMediaShare, type RemoteMediaStream } from '../../src/media/index.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { frameCounter, syntheticCamera, until } from './support/wrtc-media.js';
import { cuttablePath } from './support/udp-path.js';

/**
 * a and b in a room, each over its own cuttable path; `sender` shares a camera with the
 * other, then everything `sender` sends but its STUN requests is dropped: the sender's
 * requests are still answered, so it stays connected, while the receiver's go unanswered
 * and its ICE gives up. With `both`, everything is dropped both ways: either side, or both,
 * may then be the one to give up, so that case alone tests neither side's restart. Resolves
 * once frames flow again at the receiver, on the same stream.
 */
async function pathDies(sender: 'a' | 'b', seed: number, both = false): Promise<void> {
  const receiver = sender === 'a' ? 'b' : 'a';
  const net = createMemoryNetwork({ seed, mesh: { logger: silentLogger() } });
  const paths = { a: cuttablePath(), b: cuttablePath() };
  const rooms = { a: net.join('call', { peerId: 'a' }), b: net.join('call', { peerId: 'b' }) };
  const media = { a: createMediaShare(rooms.a, { wrtc: paths.a.wrtc, logger: silentLogger() }), b: createMediaShare(rooms.b, { wrtc: paths.b.wrtc, logger: silentLogger() }) };
  const cam = syntheticCamera();
  const cleanups: (() => void | Promise<void>)[] = [cam.stop];
  try {
    for (const id of ['a', 'b'] as const) {
      cleanups.push(async () => {
        media[id].destroy();
        paths[id].close();
        await rooms[id].leave();
      });
    }
    const errors: MeshpartyError[] = [];
    media.a.on('error', (e) => errors.push(e));
    media.b.on('error', (e) => errors.push(e));
    const added: RemoteMediaStream[] = [];
    const removed: RemoteMediaStream[] = [];
    media[receiver].on('stream-added', (s) => added.push(s));
    media[receiver].on('stream-removed', (s) => removed.push(s));
    await until('the mesh', () => rooms.a.peers.size === 1 && rooms.b.peers.size === 1);

    media[sender].publish(cam.stream, { label: 'camera' });
    await until(`the camera at ${receiver}`, () => added.length === 1);
    const frames = frameCounter(added[0]!.stream);
    cleanups.push(frames.stop);
    await until(`frames at ${receiver}`, () => frames.frames() >= 5);

    if (both) {
      paths.a.cut();
      paths.b.cut();
    } else {
      paths[sender].cut({ from: true, into: false, requestsPass: true });
      paths[receiver].cut({ into: true, from: false, requestsPass: true });
    }
    const failed = () => errors.some((e) => e.code === 'media-connection-failed' && (both || e.detail?.peer === sender));
    await until(both ? 'a media connection failing' : `${receiver} sees its media connection to ${sender} fail`, failed, 45_000);
    const atFailure = frames.frames();
    await until('frames flowing again after the ICE restart', () => frames.frames() >= atFailure + 30, 20_000);

    expect(removed).toEqual([]);
    expect(added).toHaveLength(1);
    expect(errors.every((e) => e.code === 'media-connection-failed')).toBe(true);
    // One way: only the receiver's connection failed, so the restart was its own.
    if (!both) expect(errors.every((e) => e.detail?.peer === sender)).toBe(true);
  } finally {
    for (const clean of cleanups.reverse()) await clean();
  }
}

// ICE in @roamhq/wrtc gives up after ~16 s of silence: the two run side by side.
describe.concurrent('a media connection whose network path dies', () => {
  it('when the side with the lower id (impolite) is the one whose ICE fails, it restarts ICE, and frames flow again on the same stream', async () => {
    await pathDies('b', 101);
  }, 90_000);

  it('when the side with the higher id (polite) is the one whose ICE fails, it restarts ICE after a moment, and frames flow again on the same stream', async () => {
    await pathDies('a', 102);
  }, 90_000);

  it('when nothing gets through any more (either side, or both, may give up first), frames flow again on the same stream', async () => {
    await pathDies('b', 103, true);
  }, 90_000);
});
