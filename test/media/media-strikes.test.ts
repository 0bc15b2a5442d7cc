/**
 * A media message the share drops counts with the peer's bad input on every other layer:
 * it is a strike of the room (Room.strike), so the mesh's maxStrikes across all layers
 * cuts the peer off, not only the share's own count of 16.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { createMediaShare } from '../../src/media/media-share.js';
import { ManualClock } from '../../src/util/clock.js';

describe('media bad messages', () => {
  it('are strikes of the room: the mesh cuts the sender off at its maxStrikes', async () => {
    const net = createMemoryNetwork({ clock: new ManualClock(), mesh: { logger: silentLogger(), maxStrikes: 2 } });
    const a = net.join('call', { peerId: 'a' });
    const x = net.join('call', { peerId: 'x' });
    // No connection is built here (no offer comes): an engine that is never called will do.
    const media = createMediaShare(a, { wrtc: { RTCPeerConnection: function unused() {} } as never, logger: silentLogger() });
    media.on('error', () => {});
    const left: string[] = [];
    a.on('peer-left', ({ id, reason }) => left.push(`${id}:${reason}`));
    await net.advance(500);
    expect(a.peers.has('x')).toBe(true);
    await x.channel('media').send('a', Uint8Array.of(1, 2, 3));
    await net.advance(100);
    expect(left).toEqual([]);
    await x.channel('media').send('a', Uint8Array.of(4, 5, 6));
    await net.advance(100);
    expect(left).toEqual(['x:misbehaving']);
    media.destroy();
    await Promise.all([a.leave(), x.leave()]);
  });
});
