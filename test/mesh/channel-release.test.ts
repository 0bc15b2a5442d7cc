/**
 * A room lets go of a channel nobody uses: no listener, no claim, no reference held by
 * the app. Kept for good, every document opened once in a room that stays open for days
 * left its channels behind (two per document, some 1.7 KB). A channel in use is kept,
 * whether or not the app holds it: one listened to or claimed through
 * `room.channel(name).on(...)` alone must go on working.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import type { Room } from '../../src/mesh/types.js';
import { ManualClock } from '../../src/util/clock.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
/** Collect what nobody holds (a WeakRef read in this turn is kept until it ends). */
const collect = async () => {
  await new Promise((r) => setImmediate(r));
  gc();
};

async function pair() {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ seed: 2, clock, latencyMs: 5, mesh: { logger: silentLogger() } });
  const a = net.join('r', { peerId: 'a' });
  const b = net.join('r', { peerId: 'b' });
  await net.advance(1000);
  return { net, a, b };
}

/** Use 200 channels the way a document does (listen, claim, send), then stop; weak refs to them. */
function useAndDrop(room: Room): Array<WeakRef<object>> {
  const refs: Array<WeakRef<object>> = [];
  for (let i = 0; i < 200; i++) {
    const ch = room.channel(`yjs:doc-${i}`);
    refs.push(new WeakRef(ch));
    const off = ch.on('message', () => {});
    const release = ch.claim('a document');
    void ch.broadcast(Uint8Array.of(i)).catch(() => {});
    off();
    off(); // a second call changes nothing
    release();
  }
  return refs;
}

describe('channels of a room', () => {
  it('one nobody listens on, claims or holds is let go', async () => {
    const { net, a, b } = await pair();
    const refs = useAndDrop(a);
    await net.advance(100);
    await collect();
    expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
    // The name can be used again, and it works.
    const got: number[] = [];
    a.channel('yjs:doc-7').on('message', ({ data }) => got.push(data[0]!));
    await b.channel('yjs:doc-7').send('a', Uint8Array.of(7));
    await net.advance(100);
    expect(got).toEqual([7]);
    await Promise.all([a.leave(), b.leave()]);
  });

  it('one listened to or claimed is kept though the app holds no reference to it', async () => {
    const { net, a, b } = await pair();
    const got: string[] = [];
    a.channel('chat').on('message', ({ data }) => got.push(new TextDecoder().decode(data)));
    const stop = (() => {
      const ch = a.channel('cursors');
      const offFirst = ch.on('message', () => got.push('first'));
      ch.on('message', () => got.push('second'));
      return offFirst;
    })();
    stop();
    stop(); // given up twice: the second listener still counts
    a.channel('media').claim('a media share');
    await collect();
    await b.channel('chat').send('a', new TextEncoder().encode('hi'));
    await b.channel('cursors').send('a', Uint8Array.of(1));
    await net.advance(100);
    expect(got).toEqual(['hi', 'second']);
    expect(() => a.channel('media').claim('another share')).toThrow(expect.objectContaining({ code: 'channel-in-use' }));
    await Promise.all([a.leave(), b.leave()]);
  });
});
