/**
 * An unchanged y-webrtc `WebrtcProvider` works against meshparty's relay: two providers,
 * each in its own Node process (y-webrtc allows one provider per room per process),
 * find each other through the relay's y-webrtc compatible `subscribe`/`publish`,
 * connect over real WebRTC (@roamhq/wrtc) and sync a Y.Text both ways. Once without
 * and once with y-webrtc's `password` (then its signaling payloads are base64 ciphertext).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignalingServer } from '../../signaling/index.js';
import { startYWebrtcPeer, type YWebrtcPeerProcess } from './support/peer-process.js';
import { waitFor } from '../support/net.js';

type Relay = Awaited<ReturnType<typeof createSignalingServer>>;

describe.each([
  { mode: 'plain signaling', password: undefined },
  { mode: 'password (encrypted signaling)', password: 'correct horse battery' },
])('y-webrtc interop: unchanged WebrtcProvider against the meshparty relay, $mode', ({ password }) => {
  let relay: Relay;
  const peers: YWebrtcPeerProcess[] = [];
  let a: YWebrtcPeerProcess;
  let b: YWebrtcPeerProcess;

  beforeAll(async () => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: () => {} });
    const url = `ws://127.0.0.1:${relay.address.port}`;
    // A room name no other test uses; y-webrtc derives nothing else from it here.
    const room = `interop-${process.pid}-${Date.now()}`;
    a = startYWebrtcPeer('A', url, room, password);
    b = startYWebrtcPeer('B', url, room, password);
    peers.push(a, b);
    await Promise.all(peers.map((p) => p.waitFor((e) => e.event === 'ready', 'provider ready', 60_000)));
  });

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    await relay?.close();
  });

  it('both providers subscribe to the room topic on our relay', async () => {
    await waitFor(() => relay.metrics().topics === 1 && relay.metrics().connections === 2, 'two subscribers of one topic', 30_000);
  });

  it('text typed in process A arrives in process B over WebRTC', async () => {
    a.insert(0, 'hello from A');
    await b.waitFor((e) => e.event === 'text' && e.value === 'hello from A', "A's text in B", 60_000);
    expect(b.text()).toBe('hello from A');
  });

  it('an edit in B arrives in A (both directions)', async () => {
    b.insert('hello from A'.length, ', and B');
    await a.waitFor((e) => e.event === 'text' && e.value === 'hello from A, and B', "B's edit in A", 60_000);
    expect(a.text()).toBe('hello from A, and B');
    expect(b.text()).toBe('hello from A, and B');
  });

  it('y-webrtc connected the two through WebRTC, signalled by our relay', async () => {
    // Each saw exactly the other as a WebRTC peer...
    const peersOf = (p: YWebrtcPeerProcess): string[] => {
      const last = [...p.events].reverse().find((e) => e.event === 'peers');
      return last && last.event === 'peers' ? last.webrtcPeers : [];
    };
    expect(peersOf(a)).toHaveLength(1);
    expect(peersOf(b)).toHaveLength(1);
    // ...and the relay carried the y-webrtc traffic: at least two subscribes, two
    // announces and an offer and an answer in, and their deliveries out. Only y-webrtc
    // messages were sent to this relay, so these counts are theirs.
    const m = relay.metrics();
    expect(m.messagesIn).toBeGreaterThanOrEqual(6);
    expect(m.messagesOut).toBeGreaterThanOrEqual(6);
    expect(Object.values(m.rejections).reduce((s, n) => s + (n ?? 0), 0)).toBe(0);
  });
});
