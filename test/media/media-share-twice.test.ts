/**
 * Two media shares on one room and channel would both take every message of the
 * channel (each answering the other's peers' offers on a connection of its own, each
 * forgetting what the other set up on a `hello`), so the second is refused with a clear
 * error until the first is destroyed. No media flows here: the engine is never used.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMediaShare, type MediaShare } from '../../src/media/index.js';
import { parseMediaMessage } from '../../src/media/media-wire.js';
import { MeshpartyError } from '../../src/util/errors.js';
import { until } from './support/wrtc-media.js';

/** An engine that must not be used: no share here ever makes a connection. */
class NoPeerConnection {
  constructor() {
    throw new Error('no RTCPeerConnection is made in this test');
  }
}
const wrtc = { RTCPeerConnection: NoPeerConnection as unknown as typeof RTCPeerConnection };

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function refusal(make: () => unknown): MeshpartyError {
  try {
    make();
  } catch (err) {
    return err as MeshpartyError;
  }
  throw new Error('not refused');
}

describe('two media shares on one room', () => {
  it('on the same channel: the second is refused (channel-in-use) and sends nothing; once the first is destroyed a new one is made', async () => {
    const net = createMemoryNetwork({ seed: 71, mesh: { logger: silentLogger() } });
    const a = net.join('call', { peerId: 'a' });
    const b = net.join('call', { peerId: 'b' });
    const shares: MediaShare[] = [];
    cleanups.push(async () => {
      for (const s of shares) s.destroy();
      await b.leave();
      await a.leave();
    });
    await until('the mesh', () => a.peers.size === 1 && b.peers.size === 1);
    const hellos: string[] = [];
    b.channel('media').on('message', ({ data }) => {
      const parsed = parseMediaMessage(data);
      hellos.push(parsed.ok ? parsed.message.t : 'bad');
    });
    const marker = new TextEncoder().encode('marker');
    const received = (n: number) => until(`${n} messages at b`, () => hellos.length === n);

    shares.push(createMediaShare(a, { wrtc, logger: silentLogger() }));
    const err = refusal(() => createMediaShare(a, { wrtc, logger: silentLogger() }));
    expect(err).toBeInstanceOf(MeshpartyError);
    expect(err.code).toBe('channel-in-use');
    expect(err.detail).toMatchObject({ channel: 'media', by: expect.stringContaining('media share') });
    // What the refused share would have sent comes before this on the same channel.
    await a.channel('media').send('b', marker);
    await received(2);
    expect(hellos).toEqual(['hello', 'bad']);

    // Another channel, or another room's, is another share's.
    shares.push(createMediaShare(a, { wrtc, logger: silentLogger(), channel: 'media-2' }));
    shares.push(createMediaShare(b, { wrtc, logger: silentLogger() }));
    expect(refusal(() => createMediaShare(a, { wrtc, logger: silentLogger(), channel: 'media-2' })).code).toBe('channel-in-use');

    shares[0]!.destroy();
    await received(3); // its bye
    shares.push(createMediaShare(a, { wrtc, logger: silentLogger() }));
    await received(4);
    expect(hellos).toEqual(['hello', 'bad', 'bye', 'hello']);
    expect(refusal(() => createMediaShare(a, { wrtc, logger: silentLogger() })).code).toBe('channel-in-use');
  });

  it('a share destroyed with its room (closed) frees the channel: no claim outlives it', async () => {
    const net = createMemoryNetwork({ seed: 72, mesh: { logger: silentLogger() } });
    const a = net.join('call', { peerId: 'a' });
    const media = createMediaShare(a, { wrtc, logger: silentLogger() });
    await a.leave();
    expect(refusal(() => media.publish({ getTracks: () => [] } as unknown as MediaStream)).code).toBe('closed');
    createMediaShare(a, { wrtc, logger: silentLogger() }).destroy();
  });
});
