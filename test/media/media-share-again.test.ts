/**
 * An app may make its media share anew many times while it stays in a room, e.g. a
 * "join the call" / "leave the call" toggle in a document room (destroy(), then
 * createMediaShare() again). Each new share says hello, and peers limit hellos because
 * each makes them build a connection; a limit for the whole stay in the room made the
 * 9th share get nothing from the peers (and 16 more got it disconnected). The limit is
 * a rate: 8 at once, then one more every 10 s.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMediaShare, type MediaShare, type RemoteMediaStream } from '../../src/media/index.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { syntheticCamera, until, wrtc } from './support/wrtc-media.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

describe('a media share made anew many times in one room', () => {
  it('past the burst of 8, a new share is refused only until the allowance refills (one per 10 s), then receives again', async () => {
    const net = createMemoryNetwork({ seed: 91, mesh: { logger: silentLogger() } });
    const a = net.join('call', { peerId: 'a' });
    const b = net.join('call', { peerId: 'b' });
    const aMedia = createMediaShare(a, { wrtc, logger: silentLogger() });
    const errors: MeshpartyError[] = [];
    aMedia.on('error', (e) => errors.push(e));
    let bMedia: MediaShare | undefined;
    const cam = syntheticCamera();
    cleanups.push(async () => {
      cam.stop();
      bMedia?.destroy();
      aMedia.destroy();
      await b.leave();
      await a.leave();
    });
    await until('the mesh', () => a.peers.size === 1 && b.peers.size === 1);
    aMedia.publish(cam.stream, { label: 'camera' });

    /** b joins the call: a new share, which must get a's camera. */
    const joinCall = () => {
      bMedia?.destroy();
      bMedia = createMediaShare(b, { wrtc, logger: silentLogger() });
      const added: RemoteMediaStream[] = [];
      bMedia.on('stream-added', (s) => added.push(s));
      return added;
    };
    for (let i = 0; i < 8; i++) {
      const added = joinCall();
      await until(`share ${i + 1} gets a's camera`, () => added.length === 1);
    }
    expect(errors).toEqual([]);
    const ninth = joinCall(); // within seconds of the others: over the burst
    await until('a refuses the 9th hello', () => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: 'bad-message', detail: { reason: 'more than 8 media restarts in a row' } });
    await new Promise((r) => setTimeout(r, 500));
    expect(ninth).toEqual([]);

    await new Promise((r) => setTimeout(r, 10_500)); // one more allowed
    const tenth = joinCall();
    await until("the 10th share gets a's camera", () => tenth.length === 1, 10_000);
    expect(tenth[0]).toMatchObject({ peerId: 'a', label: 'camera' });
    expect(errors).toHaveLength(1);
    expect(a.peers.size).toBe(1);
  }, 60_000);
});
