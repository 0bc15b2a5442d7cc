/**
 * A peer that sends the keeper malformed document announcements, on and on, is struck
 * for each (Room.strike) and cut off at the mesh's maxStrikes, as one sending garbage on
 * a document's channel is: only logged, it could flood the keeper's log for as long as it
 * stayed.
 */
import { describe, expect, it } from 'vitest';
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { CATALOG_CHANNEL } from '../../src/yjs/catalog.js';
import { createKeeper } from '../../src/yjs/keeper/keeper.js';
import { waitFor } from '../support/net.js';

describe('keeper: malformed announcements', () => {
  it('strike their sender, which is cut off after maxStrikes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-catalog-'));
    try {
      const net = createMemoryNetwork({ mesh: { logger: silentLogger(), maxStrikes: 3 } });
      const said: string[] = [];
      let keeperRoom: ReturnType<typeof net.join> | undefined;
      const keeper = await createKeeper({ room: 'r', dir, join: () => (keeperRoom = net.join('r', { peerId: 'keeper' })), fsync: 'never', log: (m) => said.push(m) });
      const evil = net.join('r', { peerId: 'evil' });
      await waitFor(() => evil.peers.has('keeper') && keeperRoom!.peers.has('evil'), 'evil connected to the keeper');
      for (let i = 0; i < 3; i++) await evil.channel(CATALOG_CHANNEL).send('keeper', new Uint8Array([5, 200, 1]));
      await waitFor(() => said.filter((m) => m.includes('dropped an announcement from evil')).length === 3, 'three drops logged');
      await waitFor(() => !keeperRoom!.peers.has('evil'), 'evil cut off'); // without the strikes: still connected
      expect(said.filter((m) => m.includes('dropped an announcement'))).toHaveLength(3);
      await keeper.close();
      await evil.leave();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
