/**
 * No message storm: replaying the real editing trace (seph-blog1 by Joseph Gentle,
 * editing-traces, CC BY 4.0) at typing speed over the in-memory mesh with 20 ms links
 * must not send one message per keystroke per peer: updates typed while a message is in
 * flight are merged. Messages are counted by the provider and by the simulated wire.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { loadTrace } from './support/trace.js';

describe('yjs message storm', () => {
  it('merges a fast typist’s updates: far fewer messages than keystrokes x peers, same text everywhere', async () => {
    const trace = loadTrace();
    const TXNS = 20_000;
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 7, clock, latencyMs: 20, mesh: { logger: silentLogger() } });
    const rooms = ['w', 'r1', 'r2'].map((peerId) => net.join('storm', { peerId }));
    const docs = rooms.map(() => new Y.Doc());
    const providers = rooms.map((room, i) => createYjsProvider(room, docs[i]!, { name: 'doc', clock, log: () => {} }));
    await net.advance(2000);
    expect(providers.every((p) => p.synced)).toBe(true);

    const writer = providers[0]!;
    const before = { ...writer.stats };
    const text = docs[0]!.getText('t');
    let shadow = '';
    for (let i = 0; i < TXNS; i++) {
      docs[0]!.transact(() => {
        for (const [pos, del, ins] of trace.txns[i]!.patches) {
          if (del > 0) text.delete(pos, del);
          if (ins) text.insert(pos, ins);
          shadow = shadow.slice(0, pos) + ins + shadow.slice(pos + del);
        }
      });
      if (i % 10 === 9) await net.advance(5); // ~2000 keystrokes a second: faster than a 20 ms link round trip
    }
    await net.advance(5000);
    for (const d of docs) expect(d.getText('t').toString()).toBe(shadow);

    const sent = writer.stats.messages - before.messages;
    const naive = TXNS * 2; // one message per keystroke per peer
    expect(sent).toBeGreaterThan(0);
    console.log(`storm: ${sent} messages for ${TXNS} keystrokes to 2 peers (naive: ${naive})`);
    expect(sent).toBeLessThanOrEqual(naive / 4);
    providers.forEach((p) => p.destroy());
    await Promise.all(rooms.map((r) => r.leave()));
  }, 60_000);
});
