/**
 * A stream is shared with the tracks it has when it is published ("its tracks at this
 * moment"): an app that swaps a track inside a published stream (a camera switched in
 * place, stream.removeTrack then addTrack) changes nothing for the peers, a peer joining
 * later included, and stopping sharing stops sending what was sent, not what the stream
 * holds by then (else the first track kept going out to every peer for the rest of the call).
 */
import { afterEach, expect, it } from 'vitest';
import { createMemoryNetwork, type MemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { frameCounter, syntheticCamera, until, videoFeed } from './support/wrtc-media.js';
import { mediaMember, type MediaMember } from './support/media-member.js';

type Member = MediaMember;

let net: MemoryNetwork;
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function member(id: string): Member {
  return mediaMember(net, id, cleanups);
}

/** A 320×240 source (the synthetic camera is 160×120): its frames tell the tracks apart at the receiver. */
function wideTrack(): MediaStreamTrack {
  const { track, stop } = videoFeed(320, 240);
  cleanups.push(stop);
  return track;
}

function counter(stream: MediaStream): ReturnType<typeof frameCounter> {
  const c = frameCounter(stream);
  cleanups.push(c.stop);
  return c;
}

it('a track swapped inside a published stream is not sent to a later peer, and stopping sharing stops the first one everywhere', async () => {
  net = createMemoryNetwork({ seed: 7, mesh: { logger: silentLogger() } });
  const [a, b] = ['a', 'b'].map(member) as [Member, Member];
  await until('the mesh', () => a.room.peers.size === 1 && b.room.peers.size === 1);
  const cam = syntheticCamera();
  cleanups.push(cam.stop);
  const first = cam.stream.getVideoTracks()[0]!;
  const stopSharing = a.media.publish(cam.stream, { label: 'camera' });
  await until('b shows the camera', () => b.added.length === 1);
  const atB = counter(b.added[0]!.stream);
  await until('frames at b', () => atB.frames() >= 5);

  // The camera switched in place: the app's stream now holds another track.
  cam.stream.removeTrack(first);
  cam.stream.addTrack(wideTrack());

  const c = member('c');
  await until('c shows the camera', () => c.added.length === 1);
  const atC = counter(c.added[0]!.stream);
  await until('frames at c', () => atC.frames() >= 5);
  expect(atC.width()).toBe(160); // the track published, as b gets it

  stopSharing();
  await until('b and c drop it', () => b.removed.length === 1 && c.removed.length === 1);
  // Once a stream published after it shows (the renegotiations done), no more of the first track's frames come.
  const next = syntheticCamera();
  cleanups.push(next.stop);
  a.media.publish(next.stream, { label: 'screen' });
  await until('b and c show the next stream', () => b.added.length === 2 && c.added.length === 2);
  const nextAtB = counter(b.added[1]!.stream);
  await until('frames of the next stream at b', () => nextAtB.frames() >= 10);
  const [fromB, fromC] = [atB.frames(), atC.frames()];
  await until('more frames of the next stream at b', () => nextAtB.frames() >= 40);
  expect([atB.frames() - fromB, atC.frames() - fromC]).toEqual([0, 0]);
}, 60_000);
