/**
 * room.leave() right after a document was closed and opened again (README: switching
 * documents) while the closed provider's big update still waits behind backpressure on
 * the document's channel: what the new provider holds is handed over at `leaving` too.
 * Its outbox was polling for the old provider's bytes to drain (merging meanwhile), and
 * the drain at `leaving` waited for that poll, by which time the room was closed.
 */
import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider } from '../../src/yjs/provider.js';

it('edits in a provider opened again while the old one still drains reach the peer when the room is left right after', async () => {
  const clock = new ManualClock();
  // A 10 ms link with a 64 KiB high-water mark: a 2 MB update waits behind backpressure.
  const net = createMemoryNetwork({
    clock,
    latencyMs: 10,
    maxMessageSize: 16 * 1024,
    lowWaterMark: 32 * 1024,
    mesh: { logger: silentLogger(), highWaterMarkBytes: 64 * 1024, farewellTimeoutMs: 1000 },
  });
  const a = net.join('r', { peerId: 'a' });
  const b = net.join('r', { peerId: 'b' });
  await net.advance(200);
  const [da, db] = [new Y.Doc(), new Y.Doc()];
  const first = createYjsProvider(a, da, { name: 'notes', log: () => {} });
  createYjsProvider(b, db, { name: 'notes', log: () => {} });
  await net.advance(200);
  expect(first.synced).toBe(true);
  da.getText('t').insert(0, 'x'.repeat(2_000_000)); // a pasted block
  first.destroy(); // switched to another document: its outbox hands the paste over
  expect(a.channel('yjs:notes').queuedBytes('b')).toBeGreaterThan(1_000_000);
  createYjsProvider(a, da, { name: 'notes', log: () => {} }); // and back
  da.getText('t').insert(0, 'typed after ');
  let left = false;
  void a.leave().then(() => (left = true));
  for (let t = 0; t < 6000 && !left; t += 10) await clock.advanceAsync(10);
  await net.settle();
  expect(left).toBe(true);
  expect(db.getText('t').length).toBe(2_000_012);
  expect(db.getText('t').toString().startsWith('typed after ')).toBe(true);
  await b.leave();
});
