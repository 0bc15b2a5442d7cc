/**
 * The media connection of a pair lives only as long as the pair's data connection: when
 * the mesh reports the peer left (its data connection dropped, even for a moment), its
 * streams are removed and its media connection closed, although media flows on a
 * connection of its own; once the mesh connects the peer again, the shares greet each
 * other and its streams come back on a new media connection (a new stream object).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMediaShare, type RemoteMediaStream } from '../../src/media/index.js';
import { frameCounter, syntheticCamera, until, wrtc } from './support/wrtc-media.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

describe('a data connection that drops and comes back', () => {
  it('removes the peer\'s streams with it, and they come back, frames flowing, once the mesh reconnects', async () => {
    const net = createMemoryNetwork({ seed: 111, mesh: { logger: silentLogger() } });
    const a = net.join('call', { peerId: 'a' });
    const b = net.join('call', { peerId: 'b' });
    const aMedia = createMediaShare(a, { wrtc, logger: silentLogger() });
    const bMedia = createMediaShare(b, { wrtc, logger: silentLogger() });
    const cam = syntheticCamera();
    cleanups.push(async () => {
      cam.stop();
      aMedia.destroy();
      bMedia.destroy();
      await b.leave();
      await a.leave();
    });
    const added: RemoteMediaStream[] = [];
    const removed: RemoteMediaStream[] = [];
    aMedia.on('stream-added', (s) => added.push(s));
    aMedia.on('stream-removed', (s) => removed.push(s));
    await until('the mesh', () => a.peers.size === 1 && b.peers.size === 1);
    bMedia.publish(cam.stream, { label: 'camera' });
    await until('the camera at a', () => added.length === 1);

    net.partition([['a'], ['b']]);
    await until('b left, as a sees it', () => a.peers.size === 0);
    expect(removed.map((s) => s.stream)).toEqual([added[0]!.stream]);
    expect(aMedia.remoteStreams()).toEqual([]);
    expect(await aMedia.stats('b')).toBeUndefined(); // its media connection is closed

    net.heal();
    await until('b back', () => a.peers.size === 1 && b.peers.size === 1, 20_000);
    await until('the camera at a again', () => added.length === 2, 20_000);
    expect(added[1]!.stream).not.toBe(added[0]!.stream);
    expect(added[1]!.label).toBe('camera');
    const frames = frameCounter(added[1]!.stream);
    cleanups.push(frames.stop);
    await until('frames at a on the new media connection', () => frames.frames() >= 5);
  }, 60_000);
});
