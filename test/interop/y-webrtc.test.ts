/**
 * An unchanged y-webrtc `WebrtcProvider` works against meshparty's relay: two providers,
 * each in its own Node process (y-webrtc allows one provider per room per process),
 * find each other through the relay's y-webrtc compatible `subscribe`/`publish`,
 * connect over real WebRTC (@roamhq/wrtc) and sync a Y.Text both ways. Once without
 * and once with y-webrtc's `password` (then its signaling payloads are base64 ciphertext).
 *
 * Providers are started one after another (see startAfterAnnounce): when two y-webrtc
 * providers hear each other's announce, both offer, and y-webrtc's glare handling
 * then deadlocks under @roamhq/wrtc (the loser applies the remote offer to its own
 * initiator peer: ERR_SET_REMOTE_DESCRIPTION; it re-announces, but the winner keeps its
 * stuck connection and ignores the announce). That is y-webrtc's bug, seen with our relay
 * and y-webrtc's server alike (same frames, see y-webrtc-server-parity.test.ts), not a
 * relay one; these tests are about the relay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignalingServer } from '../../signaling/index.js';
import { startYWebrtcPeer, type YWebrtcPeerProcess } from './support/peer-process.js';
import { waitFor } from '../support/net.js';

type Relay = Awaited<ReturnType<typeof createSignalingServer>>;

/** Await `wait`; on failure add every peer's diagnostics and the relay's counters. */
async function explained<T>(wait: Promise<T>, peers: YWebrtcPeerProcess[], relay: Relay | undefined): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    const others = peers.map((p) => p.diagnostics()).join('');
    throw new Error(`${String(err)}\n== all peers:${others}\n== relay metrics: ${JSON.stringify(relay?.metrics())}`);
  }
}

/**
 * Start a y-webrtc peer once the relay has handled the previous one's `subscribe` and
 * announce `publish` (its first two frames), so peers never announce at the same time.
 */
async function startAfterAnnounce(
  relay: Relay,
  started: YWebrtcPeerProcess[],
  name: string,
  url: string,
  room: string,
  password?: string,
): Promise<YWebrtcPeerProcess> {
  const before = relay.metrics().messagesIn;
  const peer = startYWebrtcPeer(name, url, room, password);
  started.push(peer);
  await peer.waitFor((e) => e.event === 'ready', `${name} ready`, 60_000);
  await explained(waitFor(() => relay.metrics().messagesIn >= before + 2, `${name}'s subscribe and announce`, 30_000), started, relay);
  return peer;
}

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
    a = await startAfterAnnounce(relay, peers, 'A', url, room, password);
    b = await startAfterAnnounce(relay, peers, 'B', url, room, password);
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
    await explained(b.waitFor((e) => e.event === 'text' && e.value === 'hello from A', "A's text in B", 50_000), peers, relay);
    expect(b.text()).toBe('hello from A');
  });

  it('an edit in B arrives in A (both directions)', async () => {
    b.insert('hello from A'.length, ', and B');
    await explained(a.waitFor((e) => e.event === 'text' && e.value === 'hello from A, and B', "B's edit in A", 50_000), peers, relay);
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

describe('y-webrtc interop: providers come back after the meshparty relay restarts', () => {
  let relay: Relay | undefined;
  const peers: YWebrtcPeerProcess[] = [];

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    await relay?.close();
  });

  it('re-subscribe to the restarted relay, and a newcomer then syncs with them', async () => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: () => {} });
    const port = relay.address.port;
    const url = `ws://127.0.0.1:${port}`;
    const room = `restart-${process.pid}-${Date.now()}`;
    const a = await startAfterAnnounce(relay, peers, 'A', url, room);
    const b = await startAfterAnnounce(relay, peers, 'B', url, room);
    a.insert(0, 'before restart');
    await explained(b.waitFor((e) => e.event === 'text' && e.value === 'before restart', "A's text in B", 30_000), peers, relay);

    // Graceful shutdown closes them with 1001; lib0's WebSocket client retries within
    // a few seconds, then y-webrtc subscribes and announces again.
    await relay.close();
    relay = await createSignalingServer({ host: '127.0.0.1', port, logger: () => {} });
    const restarted = relay;
    // Back means subscribed and announced again (2 frames each). A and B are still
    // connected peer to peer, so their announces cause no new offers between them.
    await explained(
      waitFor(
        () => restarted.metrics().connections === 2 && restarted.metrics().topics === 1 && restarted.metrics().messagesIn >= 4,
        'A and B back on the relay',
        30_000,
      ),
      peers,
      restarted,
    );

    const c = await startAfterAnnounce(restarted, peers, 'C', url, room);
    await explained(c.waitFor((e) => e.event === 'text' && e.value === 'before restart', 'the document in newcomer C', 20_000), peers, relay);
    c.insert(0, 'C: ');
    await explained(a.waitFor((e) => e.event === 'text' && e.value === 'C: before restart', "C's edit in A", 20_000), peers, relay);
    // All three on the one topic of the restarted relay, nothing refused.
    const m = restarted.metrics();
    expect([m.connections, m.topics]).toEqual([3, 1]);
    expect(m.rejections).toEqual({});
  }, 150_000);
});
