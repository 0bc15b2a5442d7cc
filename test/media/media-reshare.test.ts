/**
 * A peer that shares one stream at a time and stops it again and again (a screen share
 * toggled with no camera on, push-to-talk made with publish and stop) is answered every
 * time. When its last stream stops, every media section of the connection is rejected and
 * the engine drops the ICE transport; the next share brings a new one with new ICE
 * credentials. That is not an ICE restart of a live transport, and counting it as one
 * refused the 9th share in a row (`more than 8 ICE restarts in a row`), left the publisher's
 * offer unanswered for good, and counted a strike against an honest peer each time.
 */
import { afterEach, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { createMediaShare, type MediaShare, type RemoteMediaStream } from '../../src/media/index.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { syntheticCamera, until, wrtc } from './support/wrtc-media.js';

type Member = { room: Room; media: MediaShare };
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

it('a stream shared and stopped 16 times in a row is shown every time, with no bad message', async () => {
  const net = createMemoryNetwork({ seed: 5, mesh: { logger: silentLogger() } });
  const [a, b] = ['a', 'b'].map((id) => {
    const room = net.join('call', { peerId: id });
    const media = createMediaShare(room, { wrtc, logger: silentLogger() });
    cleanups.push(async () => {
      media.destroy();
      await room.leave();
    });
    return { room, media };
  }) as [Member, Member];
  const errors: MeshpartyError[] = [];
  for (const m of [a, b]) m.media.on('error', (e) => errors.push(e));
  const added: RemoteMediaStream[] = [];
  b.media.on('stream-added', (s) => added.push(s));
  await until('the mesh', () => a.room.peers.size === 1 && b.room.peers.size === 1);
  const screen = syntheticCamera();
  cleanups.push(screen.stop);

  for (let i = 1; i <= 16; i++) {
    const stop = a.media.publish(screen.stream, { label: 'screen' });
    await until(`share ${i} shown at b`, () => added.length === i, 10_000).catch((err: Error) => {
      throw new Error(`${err.message}; errors: ${errors.map((e) => e.message).join('; ')}`);
    });
    stop();
    await until(`share ${i} gone at b`, () => b.media.remoteStreams().length === 0);
  }
  expect(errors.map((e) => e.message)).toEqual([]);
}, 60_000);
