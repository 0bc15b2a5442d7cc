/**
 * Forwarding over real WebRTC (@roamhq/wrtc) in one Node process: a and b never get a
 * connection (each drops the signals it would send the other, as a NAT pair without TURN
 * fails), both connect to c, and their edits and presence reach each other through c.
 */
import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { MemoryRelay } from '../../src/signaling-client/memory-signaling.js';
import { createSimplePeerTransports } from '../../src/transport/simple-peer.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { FORWARD_AFTER_MS } from '../../src/yjs/forwarding.js';
import { waitFor } from '../support/net.js';
import { nodeWebRtc } from '../support/node-webrtc.js';
import { tappedSignaling } from '../support/tapped-signaling.js';

it('edits and presence of a pair that cannot connect reach each other through the third peer', async () => {
  const wrtc = await nodeWebRtc('wrtc');
  const relay = new MemoryRelay();
  const apart: Record<string, string> = { a: 'b', b: 'a' };
  const peers = ['a', 'b', 'c'].map((id) => {
    const signaling = tappedSignaling(relay.client('room', id), (to, data, forward) => {
      if (apart[id] !== to) forward(to, data);
    });
    const room = createMesh({ room: 'room', logger: silentLogger(), signaling, transports: createSimplePeerTransports({ wrtc, logger: silentLogger() }) });
    const doc = new Y.Doc();
    return { room, doc, provider: createYjsProvider(room, doc, { name: 'd', log: () => {} }) };
  });
  const [a, b, c] = peers as [(typeof peers)[number], (typeof peers)[number], (typeof peers)[number]];
  try {
    await waitFor(() => c.room.peers.size === 2 && a.room.peers.size === 1 && b.room.peers.size === 1, 'a and b connected to c only', 20_000);
    // Before c forwards (a and b must look apart for FORWARD_AFTER_MS first): c's first
    // sync as forwarder brings it; the next edits go through c as they happen.
    a.doc.getText('t').insert(0, 'from a');
    await waitFor(() => b.doc.getText('t').toString() === 'from a', 'a edit at b', FORWARD_AFTER_MS + 10_000);
    b.doc.getText('t').insert(6, ', from b');
    b.provider.awareness.setLocalStateField('user', 'bea');
    await waitFor(() => a.doc.getText('t').toString() === 'from a, from b', 'b edit at a', 10_000);
    await waitFor(() => (a.provider.awareness.getStates().get(b.doc.clientID) as { user?: string } | undefined)?.user === 'bea', 'b presence at a', 10_000);
    expect(a.room.peers.has('b')).toBe(false);
    expect(c.provider.stats.forwarded).toBeGreaterThan(0);
  } finally {
    for (const p of peers) p.provider.destroy();
    await Promise.all(peers.map((p) => p.room.leave()));
  }
}, 60_000);
