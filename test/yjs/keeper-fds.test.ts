/**
 * The keeper's file descriptors: a document it cannot serve must not leave its log open.
 * A keeper runs for days and hears every announcement again with each peer that joins,
 * so a descriptor left per failed attempt runs it out of them.
 */
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { channelId } from '../../src/mesh/frame.js';
import { CATALOG_CHANNEL, docChannelName, encodeAnnounce } from '../../src/yjs/catalog.js';
import { createKeeper } from '../../src/yjs/keeper/keeper.js';
import { docLogPath, storeName } from '../../src/yjs/keeper/store-names.js';
import { waitFor } from '../support/net.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Descriptors of this process open on `path` (Linux: /proc/self/fd). */
const openOn = (path: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // closed meanwhile (the readdir's own descriptor)
    }
  }).length;

describe.skipIf(!existsSync('/proc/self/fd'))('keeper file descriptors', () => {
  it('closes the log of a document whose channel cannot be opened, each time it is announced', async () => {
    // Two names whose channels have the same 48-bit id (found by a birthday search over
    // 33 million names): the second one's provider is refused with channel-id-collision
    // after its log was opened.
    const [first, second] = ['n23258115', 'n33100568'];
    expect(channelId(docChannelName(first))).toBe(channelId(docChannelName(second)));
    const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-fds-'));
    dirs.push(dir);
    const net = createMemoryNetwork({ mesh: { logger: silentLogger() } });
    const said: string[] = [];
    const keeper = await createKeeper({ room: 'r', dir, join: () => net.join('r', { peerId: 'keeper' }), fsync: 'never', log: (m) => said.push(m) });
    const alice = net.join('r', { peerId: 'alice' });
    await waitFor(() => alice.peers.has('keeper'), 'alice connected to the keeper');
    const catalog = alice.channel(CATALOG_CHANNEL);
    await catalog.send('keeper', encodeAnnounce([first]));
    await waitFor(() => keeper.docs('r').has(first), 'the keeper keeps the first name');
    for (let i = 0; i < 3; i++) await catalog.send('keeper', encodeAnnounce([second]));
    const refused = () => said.filter((m) => m.includes('channel-id-collision')).length;
    await waitFor(() => refused() === 3, 'three refusals logged');
    expect(keeper.docs('r').has(second)).toBe(false);
    // Without the fix: 3 (one per announcement), open until the process ends.
    expect(openOn(docLogPath(join(dir, storeName('r')), second))).toBe(0);
    await keeper.close();
    await alice.leave();
  });
});
