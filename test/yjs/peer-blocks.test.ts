/**
 * The provider's strike and block bookkeeping stays bounded in a long-lived provider (the
 * keeper), while a peer cut off for bad messages that rejoins at once is still blocked.
 * On the in-memory network with simulated time.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { PeerBlocks } from '../../src/yjs/peer-blocks.js';
import { YjsTag, encodeUpdate } from '../../src/yjs/protocol.js';

const quiet = () => {};
const garbage = encodeUpdate(YjsTag.Update, new Uint8Array([200, 200, 200]));

/**
 * A keeper with a provider blocking for `blockForMs`; with `olderRoom`, the provider is
 * given a room written before Room.disconnect took a ban (it drops the option), which lets
 * a cut-off peer back once the mesh's own ban ends.
 */
function setUp(blockForMs = 60_000, olderRoom = false) {
  const clock = new ManualClock();
  // The mesh's shortest ban (1 s, doubled per cut-off), far below the provider's block.
  const net = createMemoryNetwork({ seed: 7, clock, mesh: { logger: silentLogger(), banMs: 1000 } });
  const keeper = net.join('r', { peerId: 'keeper' });
  const doc = new Y.Doc();
  doc.getText('t').insert(0, 'kept');
  const room: Room = olderRoom ? Object.create(keeper, { disconnect: { value: (peer: string, reason: string) => keeper.disconnect!(peer, reason) } }) : keeper;
  const provider = createYjsProvider(room, doc, { name: 'd', clock, log: quiet, blockForMs });
  return { clock, net, keeper, doc, provider };
}

/** Has `room`'s peer send `n` bad messages to the keeper. */
async function sendBad(room: Room, n: number): Promise<void> {
  const ch = room.channel('yjs:d');
  for (let i = 0; i < n; i++) await ch.send('keeper', garbage).catch(() => {});
}

describe('yjs provider strikes and blocks', () => {
  it('forgets peers that struck or were blocked once they left and their block ran out', async () => {
    const { net, keeper, provider } = setUp();
    await net.advance(100);
    for (let i = 0; i < 40; i++) {
      // Half are cut off (3 strikes), half leave after one strike.
      const visitor = net.join('r', { peerId: `v${i}` });
      await net.advance(1000);
      expect(keeper.peers.has(`v${i}`)).toBe(true);
      await sendBad(visitor, i % 2 === 0 ? 3 : 1);
      await net.advance(200);
      await visitor.leave();
      await net.advance(200);
    }
    expect(keeper.peers.size).toBe(0);
    // Blocks outlive their peers for a while (here 60 s), strikes do not.
    expect(provider.blockCounts).toEqual({ striking: 0, blocked: 0, departed: 20 });
    await net.advance(60_000);
    expect(provider.blockCounts).toEqual({ striking: 0, blocked: 0, departed: 0 });
    provider.destroy();
    await keeper.leave();
  });

  it('has the mesh refuse a cut-off peer for its whole block: one cut, one ban, however often it comes back', async () => {
    // The mesh bans for 1 s, doubled per cut-off (at most 64 s); the provider blocks for
    // 10 minutes from the peer's departure. Let back after each ban, the peer was cut off
    // again by the provider, each cut another offence to the mesh and another departure
    // restarting the block: 15 cuts in these 10 minutes, and never let back while it kept
    // trying (with the default 60 s ban: cut again at 1, 3, 7 and 15 minutes, let in at 31).
    const { net, keeper, doc, provider } = setUp(10 * 60_000);
    const left: string[] = [];
    const refused: number[] = [];
    keeper.on('peer-left', ({ id, reason }) => left.push(`${id}:${reason}`));
    keeper.on('peer-refused', (e) => refused.push(e.detail?.bans as number));
    const evil = net.join('r', { peerId: 'evil' }); // stays in the relay room, trying to reconnect all along
    await net.advance(1000);
    await sendBad(evil, 3);
    await net.advance(10 * 60_000 - 1000);
    expect(left).toEqual(['evil:disconnected: sent 3 bad messages on yjs:d']);
    expect(keeper.peers.has('evil')).toBe(false);
    await net.advance(10_000); // its block over: let in, and the provider takes it afresh
    expect(keeper.peers.has('evil')).toBe(true);
    expect(provider.peers.has('evil')).toBe(true);
    // Its next offence is its second, not its tenth.
    await sendBad(evil, 3);
    await net.advance(5000);
    expect(refused).toEqual([1, 2]);
    expect(doc.getText('t').toString()).toBe('kept');
    provider.destroy();
    await Promise.all([keeper.leave(), evil.leave()]);
  });

  it('keeps a peer blocked that a room lets back sooner, and lets it in once its block ran out', async () => {
    const { net, keeper, doc, provider } = setUp(60_000, true);
    const left: string[] = [];
    const joined: string[] = [];
    keeper.on('peer-left', ({ id }) => left.push(id));
    keeper.on('peer-joined', ({ id }) => joined.push(id));
    let evil = net.join('r', { peerId: 'evil' });
    await net.advance(1000);
    await sendBad(evil, 3);
    await net.advance(200);
    expect(left).toEqual(['evil']);

    // Back at once: the relay room is left and joined again; the mesh lets it in once its ban ends.
    await evil.leave();
    evil = net.join('r', { peerId: 'evil' });
    const evilDoc = new Y.Doc();
    const evilProvider = createYjsProvider(evil, evilDoc, { name: 'd', clock: net.clock, log: quiet });
    evilDoc.getText('t').insert(0, 'spam ');
    await net.advance(5000);
    expect(doc.getText('t').toString()).toBe('kept');
    expect(evilDoc.getText('t').toString()).toBe('spam ');
    expect(joined).toEqual(['evil', 'evil']); // the mesh let it back in once its ban (1 s) ended,
    expect(left).toEqual(['evil', 'evil']); // the provider cut it off again
    expect(keeper.peers.has('evil')).toBe(false);
    expect(provider.peers.has('evil')).toBe(false);
    evilProvider.destroy();
    await evil.leave();

    // After the block (60 s from its departure) it starts afresh.
    await net.advance(60_000);
    const back = net.join('r', { peerId: 'evil' });
    const backDoc = new Y.Doc();
    const backProvider = createYjsProvider(back, backDoc, { name: 'd', clock: net.clock, log: quiet });
    backDoc.getText('t').insert(0, 'hi ');
    await net.advance(5000);
    expect(keeper.peers.has('evil')).toBe(true);
    expect(doc.getText('t').toString()).toContain('hi ');
    expect(backDoc.getText('t').toString()).toContain('kept');
    expect(provider.blockCounts).toEqual({ striking: 0, blocked: 0, departed: 0 });
    backProvider.destroy();
    provider.destroy();
    await Promise.all([keeper.leave(), back.leave()]);
  });

  it('remembers at most its cap of departed blocked peers, forgetting the blocks that end soonest', () => {
    const clock = new ManualClock();
    const blocks = new PeerBlocks(1, 60_000, clock, 5);
    for (let i = 0; i < 8; i++) {
      blocks.strike(`p${i}`, true);
      blocks.left(`p${i}`);
      clock.advance(1000);
    }
    expect(blocks.counts).toEqual({ striking: 0, blocked: 0, departed: 5 });
    expect(['p0', 'p1', 'p2'].map((p) => blocks.isBlocked(p))).toEqual([false, false, false]);
    expect(['p3', 'p7'].map((p) => blocks.isBlocked(p))).toEqual([true, true]);
    // A strike from a peer already gone (a message racing its departure) leaves nothing behind
    // but, on its last strike, a block that runs out.
    const strict = new PeerBlocks(2, 60_000, clock);
    strict.strike('gone', false);
    expect(strict.counts).toEqual({ striking: 0, blocked: 0, departed: 0 });
  });
});
