/**
 * Over real WebRTC (@roamhq/wrtc): a description for the open session, sealed with the
 * room key (a replay the IV window no longer catches), would make the responder
 * renegotiate and both sides lose the pair; it is dropped, and candidates for the open
 * session stay harmless.
 */
import { describe, expect, it } from 'vitest';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { shouldInitiate } from '../../src/mesh/glare.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { deriveSignalKey, openSignal, sealSignal } from '../../src/mesh/signal-crypto.js';
import { MemoryRelay } from '../../src/signaling-client/memory-signaling.js';
import { createSimplePeerTransports } from '../../src/transport/simple-peer.js';
import { waitFor } from '../support/net.js';
import { hostileSignaling } from '../support/tapped-signaling.js';
import { nodeWebRtc } from '../support/node-webrtc.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('password room over real WebRTC', () => {
  it('drops a sealed offer for the open session and keeps the pair; candidates for it are harmless', async () => {
    const wrtc = await nodeWebRtc('wrtc');
    const relay = new MemoryRelay();
    const mk = (id: string) => {
      const h = hostileSignaling(relay.client('room', id));
      const room = createMesh({
        room: 'room', password: 'pw', logger: silentLogger(), signaling: h.signaling,
        transports: createSimplePeerTransports({ wrtc, logger: silentLogger() }),
      });
      const left: string[] = [];
      room.on('peer-left', ({ id: p, reason }) => left.push(`${p}:${reason}`));
      return { room, left, ...h };
    };
    const a = mk('a');
    await waitFor(() => a.room.selfId === 'a', 'a joined');
    const b = mk('b');
    await waitFor(() => a.room.peers.size === 1 && b.room.peers.size === 1, 'open', 15_000);
    const [init, resp, initId, respId] = shouldInitiate('a', 'b') ? [a, b, 'a', 'b'] : [b, a, 'b', 'a'];
    const key = await deriveSignalKey('pw', 'room');
    let offer: { s: string; d: { type: string } } | undefined;
    for (const s of init.sent) {
      if (typeof s.data !== 'string') continue;
      const plain = (await openSignal(key, initId, respId, s.data)) as { s?: string; d?: { type?: string } };
      if (plain.d?.type === 'offer') offer = plain as typeof offer;
    }
    expect(offer).toBeDefined();
    await sleep(200);
    resp.inject(initId, await sealSignal(key, initId, respId, offer));
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host', sdpMLineIndex: 0, sdpMid: '0' };
    resp.inject(initId, await sealSignal(key, initId, respId, { s: offer!.s, d: { type: 'candidates', candidates: [candidate] } }));
    await sleep(1500);
    const result = { initLeft: [...init.left], respLeft: [...resp.left], open: [a.room.peers.size, b.room.peers.size] };
    await Promise.all([a.room.leave(), b.room.leave()]);
    expect(result).toEqual({ initLeft: [], respLeft: [], open: [1, 1] });
  }, 30_000);
});
