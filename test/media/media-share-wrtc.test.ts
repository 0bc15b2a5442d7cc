/**
 * Media over real WebRTC in Node: rooms on the in-memory mesh (the negotiation's
 * carrier), media connections on @roamhq/wrtc with a synthetic video source, frames
 * checked at the receiver with wrtc's video sink. The browser test (test/e2e/video.test.ts)
 * covers Chromium with a fake camera over a real relay and a real data mesh.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork, type MemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMediaShare, type RemoteMediaStream } from '../../src/media/index.js';
import { encodeMediaMessage } from '../../src/media/media-wire.js';
import { frameCounter, syntheticCamera, until, wrtc } from './support/wrtc-media.js';
import { mediaMember, type MediaMember } from './support/media-member.js';

type Member = MediaMember;

let net: MemoryNetwork;
const cleanups: (() => void | Promise<void>)[] = [];

function member(id: string): Member {
  return mediaMember(net, id, cleanups);
}

function camera(): MediaStream {
  const cam = syntheticCamera();
  cleanups.push(cam.stop);
  return cam.stream;
}

async function expectFrames(stream: MediaStream): Promise<void> {
  const counter = frameCounter(stream);
  cleanups.push(counter.stop);
  await until('video frames', () => counter.frames() >= 5);
  expect(counter.width()).toBe(160);
}

async function peersConnected(members: Member[]): Promise<void> {
  await until('the mesh', () => members.every((m) => m.room.peers.size === members.length - 1));
}

afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

describe('media share over @roamhq/wrtc', () => {
  it('a published camera reaches every peer, with its label and frames', async () => {
    net = createMemoryNetwork({ seed: 1, mesh: { logger: silentLogger() } });
    const [a, b, c] = ['a', 'b', 'c'].map(member) as [Member, Member, Member];
    await peersConnected([a, b, c]);
    const stream = camera();
    a.media.publish(stream, { label: 'camera' });
    for (const m of [b, c]) {
      await until('stream-added', () => m.added.length === 1);
      expect(m.added[0]).toMatchObject({ peerId: 'a', label: 'camera' });
      expect(m.added[0]!.stream.id).toBe(stream.id);
      await expectFrames(m.added[0]!.stream);
    }
    expect(b.media.remoteStreams().map((s) => s.peerId)).toEqual(['a']);
    expect(a.added).toEqual([]);
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  });

  it('two peers that publish at the same moment both receive the other (offers cross)', async () => {
    net = createMemoryNetwork({ seed: 2, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map(member) as [Member, Member];
    await peersConnected([a, b]);
    a.media.publish(camera(), { label: 'a-cam' });
    b.media.publish(camera(), { label: 'b-cam' });
    await until('both streams', () => a.added.length === 1 && b.added.length === 1);
    expect(a.added[0]!.label).toBe('b-cam');
    expect(b.added[0]!.label).toBe('a-cam');
    await expectFrames(a.added[0]!.stream);
    await expectFrames(b.added[0]!.stream);
  });

  it('unpublish removes the tile, publishing again brings it back; a late joiner gets it too', async () => {
    net = createMemoryNetwork({ seed: 3, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map(member) as [Member, Member];
    await peersConnected([a, b]);
    const stream = camera();
    const stop = a.media.publish(stream, { label: 'screen' });
    await until('stream-added', () => b.added.length === 1);
    stop();
    await until('stream-removed', () => b.removed.length === 1);
    expect(b.removed[0]!.stream.id).toBe(stream.id);
    expect(b.media.remoteStreams()).toEqual([]);

    a.media.publish(stream, { label: 'screen' });
    await until('added again', () => b.added.length === 2);
    await expectFrames(b.added[1]!.stream);

    const late = member('late');
    await peersConnected([a, b, late]);
    await until('late joiner has it', () => late.added.length === 1);
    expect(late.added[0]).toMatchObject({ peerId: 'a', label: 'screen' });
    await expectFrames(late.added[0]!.stream);
  });

  it('a stream swapped for another before the first offer is answered shows at the receiver', async () => {
    // 40 ms each way, so a's first offer is still unanswered when b shows its stream.
    net = createMemoryNetwork({ seed: 10, latencyMs: 40, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map(member) as [Member, Member];
    await peersConnected([a, b]);
    // Camera off and a screen share on, in that window: with addTrack the new track took
    // over the first one's transceiver, and b never heard of the new stream.
    const second = camera();
    const stopFirst = a.media.publish(camera(), { label: 'camera' });
    const off = b.media.on('stream-added', () => {
      off();
      stopFirst();
      a.media.publish(second, { label: 'screen' });
    });
    await until('the screen at b', () => b.media.remoteStreams().some((s) => s.stream.id === second.id));
    expect(b.media.remoteStreams().map((s) => s.label)).toEqual(['screen']);
    await expectFrames(b.media.remoteStreams()[0]!.stream);
  });

  it('setMuted mutes the tracks and tells every peer (stream-updated), a late joiner included', async () => {
    net = createMemoryNetwork({ seed: 13, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map(member) as [Member, Member];
    await peersConnected([a, b]);
    const updated: RemoteMediaStream[] = [];
    b.media.on('stream-updated', (s) => updated.push(s));
    const stream = camera();
    a.media.publish(stream, { label: 'camera' });
    await until('stream-added', () => b.added.length === 1);
    expect(b.added[0]!.muted).toEqual({ audio: false, video: false });

    a.media.setMuted(stream, { video: true });
    expect(stream.getVideoTracks()[0]!.enabled).toBe(false);
    await until('stream-updated', () => updated.length === 1);
    expect(updated[0]).toMatchObject({ peerId: 'a', label: 'camera', muted: { audio: false, video: true } });
    expect(updated[0]!.stream).toBe(b.added[0]!.stream);
    expect(b.media.remoteStreams()[0]!.muted).toEqual({ audio: false, video: true });

    a.media.setMuted(stream, { audio: true }); // no audio track: announced all the same
    a.media.setMuted(stream, { audio: true }); // no change: nothing sent
    await until('second update', () => updated.length === 2);
    expect(updated[1]!.muted).toEqual({ audio: true, video: true });

    const late = member('late');
    await peersConnected([a, b, late]);
    await until('late joiner has it', () => late.added.length === 1);
    expect(late.added[0]!.muted).toEqual({ audio: true, video: true });

    a.media.setMuted(stream, { video: false, audio: false });
    expect(stream.getVideoTracks()[0]!.enabled).toBe(true);
    await until('unmuted everywhere', () => [b, late].every((m) => m.media.remoteStreams()[0]?.muted.video === false));
    expect(updated).toHaveLength(3);
    expect(b.removed).toEqual([]);
    expect(() => a.media.setMuted(camera(), { video: true })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });

  it('a peer that leaves takes its streams with it', async () => {
    net = createMemoryNetwork({ seed: 4, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map(member) as [Member, Member];
    await peersConnected([a, b]);
    b.media.publish(camera(), { label: 'camera' });
    await until('stream-added', () => a.added.length === 1);
    await b.room.leave();
    await until('stream-removed', () => a.removed.length === 1);
    expect(a.removed[0]!.peerId).toBe('b');
    expect(a.media.remoteStreams()).toEqual([]);
  });

  it('a peer that leaves says goodbye to its media first: its tiles go before the peer does', async () => {
    net = createMemoryNetwork({ seed: 4, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map(member) as [Member, Member];
    await peersConnected([a, b]);
    b.media.publish(camera(), { label: 'camera' });
    await until('stream-added', () => a.added.length === 1);
    let stillPeer: boolean | undefined;
    a.media.on('stream-removed', () => (stillPeer = a.room.peers.has('b')));
    await b.room.leave();
    await until('stream-removed', () => a.removed.length === 1);
    // Removed on b's media goodbye, while b was still a peer: not only once b was gone.
    expect(stillPeer).toBe(true);
  });

  it('a peer that starts its media share anew (a new connection) is followed, not refused', async () => {
    net = createMemoryNetwork({ seed: 7, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map(member) as [Member, Member];
    await peersConnected([a, b]);
    a.media.publish(camera(), { label: 'a-cam' });
    b.media.publish(camera(), { label: 'b-cam' });
    await until('both streams', () => a.added.length === 1 && b.added.length === 1);
    // b drops its share (as a page's media code restarting would) and makes a new one.
    b.media.destroy();
    await until("b's stream removed at a", () => a.removed.length === 1);
    const again = createMediaShare(b.room, { wrtc, logger: silentLogger() });
    cleanups.push(() => again.destroy());
    const seen: RemoteMediaStream[] = [];
    again.on('stream-added', (s) => seen.push(s));
    again.publish(camera(), { label: 'b-cam-2' });
    await until('a gets the new stream', () => a.added.length === 2);
    expect(a.added[1]!.label).toBe('b-cam-2');
    await expectFrames(a.added[1]!.stream);
    // And the new share receives a's camera on the new connection.
    await until("b's new share gets a's stream", () => seen.length === 1);
    await expectFrames(seen[0]!.stream);
  });

  it('a share made after the peers connected still gets what they already share', async () => {
    net = createMemoryNetwork({ seed: 8, mesh: { logger: silentLogger() } });
    const a = member('a');
    const bRoom = net.join('call', { peerId: 'b' });
    cleanups.push(() => bRoom.leave());
    await until('the mesh', () => a.room.peers.size === 1 && bRoom.peers.size === 1);
    a.media.publish(camera(), { label: 'camera' });
    // a's announcement and offer reach b before b has a media share: they are lost.
    await new Promise((r) => setTimeout(r, 300));
    const late = createMediaShare(bRoom, { wrtc, logger: silentLogger() });
    cleanups.push(() => late.destroy());
    const seen: RemoteMediaStream[] = [];
    late.on('stream-added', (s) => seen.push(s));
    await until("a's stream at b's late share", () => seen.length === 1);
    expect(seen[0]).toMatchObject({ peerId: 'a', label: 'camera' });
    await expectFrames(seen[0]!.stream);
  });

  it('a peer restarting its share over and over is refused past 8 restarts', async () => {
    net = createMemoryNetwork({ seed: 9, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map(member) as [Member, Member];
    await peersConnected([a, b]);
    const raw = b.room.channel('media');
    for (let i = 0; i < 9; i++) await raw.send('a', encodeMediaMessage({ v: 1, t: 'hello' }));
    await until('a refusal', () => a.errors.length === 1);
    // b's share was made before the peers connected, so it said no hello: 8 of these were taken.
    expect(a.errors[0]).toMatchObject({ code: 'bad-message', detail: { reason: 'more than 8 media restarts in a row' } });
    expect(a.errors).toHaveLength(1);
  });

  it('malformed media messages are dropped with a reason, media goes on, and a peer that keeps sending them is disconnected', async () => {
    // No mesh strike limit: the media share's own (16 bad messages) is what this tests; the
    // mesh would cut b off at its maxStrikes (10, media-strikes.test.ts).
    net = createMemoryNetwork({ seed: 5, mesh: { logger: silentLogger(), maxStrikes: Infinity } });
    const [a, b] = ['a', 'b'].map(member) as [Member, Member];
    await peersConnected([a, b]);
    const raw = b.room.channel('media');
    const bad = [
      new TextEncoder().encode('not json'),
      encodeMediaMessage({ v: 1, t: 'offer', s: 'x', to: '', sdp: 'no sdp here' }),
      new TextEncoder().encode(JSON.stringify({ v: 9, t: 'streams', streams: [] })),
      new TextEncoder().encode(JSON.stringify({ v: 1, t: 'streams', streams: Array.from({ length: 17 }, (_, i) => ({ id: `s${i}`, label: '' })) })),
      new Uint8Array(200 * 1024),
      // An offer asking a's engine for 65 transceivers.
      encodeMediaMessage({ v: 1, t: 'offer', s: 'z', to: '', sdp: 'v=0\r\n' + 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\n'.repeat(65) }),
      new TextEncoder().encode(JSON.stringify({ v: 1, t: 'streams', streams: [{ id: 's', label: '', muted: ['sound'] }] })),
    ];
    for (const bytes of bad) await raw.send('a', bytes);
    await until('seven refusals', () => a.errors.length === 7);
    expect(a.errors.map((e) => e.code)).toEqual(Array(7).fill('bad-message'));
    expect(a.errors.map((e) => e.detail?.reason)).toEqual([
      'not UTF-8 JSON',
      'offer: sdp is not an SDP',
      'wire version 9, expected 1',
      'streams: 17 announced, over 16',
      `message of ${200 * 1024} bytes, over ${128 * 1024}`,
      'offer: 65 media sections, over 64',
      "streams: muted is not a list of 'audio' and 'video'",
    ]);
    // A well-formed offer with a garbage SDP body reaches the engine, which refuses it: an error, no crash.
    await raw.send('a', encodeMediaMessage({ v: 1, t: 'offer', s: 'y', to: '', sdp: 'v=0\r\ngarbage' }));
    await until('negotiation refused', () => a.errors.some((e) => e.code === 'media-negotiation-failed'));

    // Media still works between them afterwards (a's connection was replaced by the real one).
    b.media.publish(camera(), { label: 'camera' });
    await until('stream-added after bad input', () => a.added.length === 1);
    await expectFrames(a.added[0]!.stream);

    // The refused SDP counted as one: 8 more make 16 and b is disconnected.
    for (let i = 0; i < 7; i++) await raw.send('a', new TextEncoder().encode('{}'));
    await new Promise((r) => setTimeout(r, 300));
    expect(a.room.peers.has('b')).toBe(true);
    await raw.send('a', new TextEncoder().encode('{}'));
    await until('b disconnected', () => !a.room.peers.has('b'));
    expect(a.errors.filter((e) => e.code === 'bad-message')).toHaveLength(15);
    await until('its stream removed', () => a.removed.length === 1);
  });

  it('refuses bad arguments with stable codes', async () => {
    net = createMemoryNetwork({ seed: 6, mesh: { logger: silentLogger() } });
    const a = member('a');
    expect(() => a.media.publish({} as MediaStream)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => a.media.publish(camera(), { label: 'x'.repeat(129) })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => createMediaShare(a.room, { wrtc: {} as never })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    a.media.destroy();
    expect(() => a.media.publish(camera())).toThrow(expect.objectContaining({ code: 'closed' }));
  });
});
