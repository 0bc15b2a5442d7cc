/**
 * Encrypted signaling end to end over real WebRTC: peers with the room's password mesh;
 * a peer with a wrong password gets a `wrong-password` error and connects to no one;
 * and neither the relay's log nor any frame through it holds plaintext SDP or ICE.
 * On each Node WebRTC engine (their SDP and candidates differ in form).
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createSignalingServer, type LogEntry, type SignalingServer } from '../../signaling/index.js';
import { joinRoom } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { waitFor } from '../support/net.js';
import { NODE_WEBRTC_ENGINES, nodeWebRtc } from '../support/node-webrtc.js';
import { type RecordingProxy, startRecordingProxy } from './support/recording-proxy.js';

const quiet = { debug: () => {}, warn: () => {} };
const PLAINTEXT_MARKERS = ['v=0', 'a=candidate', 'sdp', 'candidate:', 'a=fingerprint'];
/**
 * Ciphertext is base64url (at least 38 characters: IV and tag alone are 28 bytes), where
 * a short marker such as `sdp` turns up by chance (it made a run fail here); plaintext
 * SDP never forms such a run (`=`, `:`, spaces, quotes break it), so runs are blanked
 * before looking. The control test below shows plaintext is still caught.
 */
const withoutBase64Runs = (text: string) => text.replace(/[A-Za-z0-9_-]{32,}/g, '');
const leaks = (texts: string[]) => PLAINTEXT_MARKERS.filter((m) => texts.some((t) => withoutBase64Runs(t).includes(m)));

describe.each(NODE_WEBRTC_ENGINES)('room password over real WebRTC (%s)', (engine) => {
  let relay: SignalingServer | undefined;
  let proxy: RecordingProxy | undefined;
  let rooms: Room[] = [];
  afterEach(async () => {
    await Promise.all(rooms.map((r) => r.leave()));
    rooms = [];
    await proxy?.close();
    await relay?.close();
  });

  it('refuses a wrong password with a clear error and no connection; the relay never sees plaintext SDP', async () => {
    const log: LogEntry[] = [];
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: (e) => log.push(e), logIntervalMs: 100 });
    proxy = await startRecordingProxy(relay.address.url);
    const wrtc = await nodeWebRtc(engine);
    const join = (password: string) => joinRoom({ relay: proxy!.url, room: 'secret', password, wrtc, WebSocket, logger: quiet });

    const a = await join('correct horse');
    const b = await join('correct horse');
    rooms.push(a, b);
    await waitFor(() => a.peers.has(b.selfId) && b.peers.has(a.selfId), 'right-password peers connected', 30_000);

    const started = Date.now();
    const intruder = await join('battery staple');
    rooms.push(intruder);
    const errors: MeshpartyError[] = [];
    intruder.on('error', (e) => errors.push(e));
    const joinedIntruder: string[] = [];
    intruder.on('peer-joined', ({ id }) => joinedIntruder.push(id));
    await waitFor(() => errors.length > 0, 'wrong-password error', 15_000);
    console.log(`wrong password reported after ${Date.now() - started} ms`);
    expect(errors[0]!.code).toBe('wrong-password');
    await waitFor(() => intruder.status === 'closed', 'intruder room closed', 10_000);
    expect(joinedIntruder).toEqual([]);
    expect(intruder.peers.size).toBe(0);
    expect(a.peers.has(intruder.selfId) || b.peers.has(intruder.selfId)).toBe(false);
    // The right-password pair is undisturbed.
    expect(a.peers.has(b.selfId)).toBe(true);

    // Signals did cross the relay (offers, answers, candidates), but only as ciphertext.
    const signalFrames = proxy.frames.filter((f) => f.includes('"type":"signal"'));
    expect(signalFrames.length).toBeGreaterThan(2);
    expect(leaks(proxy.frames)).toEqual([]);
    expect(leaks(log.map((e) => JSON.stringify(e)))).toEqual([]);
  }, 120_000);

  it('(control) without a password the same capture does see SDP, so the check above can fail', async () => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: () => {} });
    proxy = await startRecordingProxy(relay.address.url);
    const wrtc = await nodeWebRtc(engine);
    const a = await joinRoom({ relay: proxy.url, room: 'open', wrtc, WebSocket, logger: quiet });
    const b = await joinRoom({ relay: proxy.url, room: 'open', wrtc, WebSocket, logger: quiet });
    rooms.push(a, b);
    await waitFor(() => a.peers.has(b.selfId), 'connected', 30_000);
    expect(leaks(proxy.frames)).toEqual(expect.arrayContaining(['v=0', 'a=candidate', 'sdp']));
  }, 60_000);
});
