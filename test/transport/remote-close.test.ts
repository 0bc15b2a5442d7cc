/**
 * When one side of an open pair leaves normally (destroy), the other side sees a plain
 * `close`, not an error: on node-datachannel the remote close arrives as the unreliable
 * channel closing or connectionState 'closed', which were once reported as failures.
 */
import { describe, expect, it } from 'vitest';
import { createSimplePeerTransports } from '../../src/transport/simple-peer.js';
import { NODE_WEBRTC_ENGINES, nodeWebRtc } from '../support/node-webrtc.js';
import { waitFor } from '../support/net.js';
import { allOpen, crossWire } from './acceptance.js';

describe.each(NODE_WEBRTC_ENGINES)('an orderly remote close on %s', (engine) => {
  it('reaches the other side as close only, with reason closed', async () => {
    const wrtc = await nodeWebRtc(engine);
    const seenPerPair: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const transports = createSimplePeerTransports({ wrtc, logger: { warn: () => {} } });
      const a = transports.create({ localId: 'a', remoteId: 'b', initiator: true });
      const b = transports.create({ localId: 'b', remoteId: 'a', initiator: false });
      crossWire(a, b);
      expect(await allOpen([a, b])).toBe(true);
      const seen: string[] = [];
      b.on('error', (e) => seen.push(`error:${e.code}`));
      b.on('close', ({ reason }) => seen.push(`close:${reason}`));
      a.destroy();
      await waitFor(() => seen.some((s) => s.startsWith('close')), 'b closes', 15_000);
      seenPerPair.push(seen);
    }
    expect(seenPerPair).toEqual([['close:closed'], ['close:closed'], ['close:closed']]);
  });
});
