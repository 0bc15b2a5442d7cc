/**
 * `channel.claim(by)`: one user of a channel's messages at a time, per room.
 */
import { expect, it } from 'vitest';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { ManualClock } from '../../src/util/clock.js';

it('a claimed channel refuses a second claim with channel-in-use naming the holder; a release frees it, and a stale release frees nothing', async () => {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ seed: 1, clock, mesh: { logger: silentLogger() } });
  const a = net.join('r', { peerId: 'a' });
  const b = net.join('r', { peerId: 'b' });
  await net.advance(500);
  const release = a.channel('cursors').claim('cursor sharing');
  expect(() => a.channel('cursors').claim('another feature')).toThrow(
    expect.objectContaining({ code: 'channel-in-use', detail: { channel: 'cursors', by: 'cursor sharing' } }),
  );
  // Other channels, and the same channel of another room's mesh, are separate.
  a.channel('chat').claim('chat')();
  b.channel('cursors').claim('cursor sharing')();
  // Plain listeners are not claims.
  const off = a.channel('cursors').on('message', () => {});
  off();

  release();
  const again = a.channel('cursors').claim('another feature');
  release(); // late, second call: must not free the newer claim
  expect(() => a.channel('cursors').claim('a third')).toThrow(expect.objectContaining({ code: 'channel-in-use', detail: { channel: 'cursors', by: 'another feature' } }));
  again();
  a.channel('cursors').claim('a third');
  await Promise.all([a.leave(), b.leave()]);
});
