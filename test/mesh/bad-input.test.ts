import { shouldInitiate } from '../../src/mesh/glare.js';
import { describe, expect, it } from 'vitest';
import { encodeChunkFirst, encodeChunkNext, encodeMsg, channelId } from '../../src/mesh/frame.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { ManualClock } from '../../src/util/clock.js';
import { waitFor } from '../support/net.js';
import { rogueNextTo } from '../support/rogue-peer.js';

describe('bad input from a peer', () => {
  it('drops malformed frames with a logged reason, keeps the connection for a few, and never throws into the app', async () => {
    const { net, a, rogue, warnings, signaling } = await rogueNextTo({ maxStrikes: 10 });
    const got: string[] = [];
    a.channel('chat').on('message', ({ data }) => got.push(new TextDecoder().decode(data)));
    const t = rogue();
    const chat = channelId('chat');
    t.send('reliable', Uint8Array.of(0x7f, 1, 2)); // unknown kind
    t.send('reliable', Uint8Array.of(0x04, 0, 0)); // truncated MSG header
    t.send('reliable', Uint8Array.of(0x01, 0, 0, 0, 1, 42)); // the first frame format's MSG (an older meshparty)
    t.send('reliable', encodeChunkNext(99, Uint8Array.of(1))); // chunk of a message never started
    t.send('reliable', encodeChunkFirst(chat, 1, 200_000, new Uint8Array(10))); // announces more than maxMessageBytes
    t.send('reliable', encodeChunkNext(1, new Uint8Array(10))); // ...its later chunks are dropped quietly
    t.send('unreliable', encodeChunkFirst(chat, 2, 100, new Uint8Array(10))); // chunks on the unreliable channel
    t.send('reliable', encodeMsg(channelId('never-opened'), Uint8Array.of(1))); // unknown channel: dropped, no strike
    t.send('reliable', encodeMsg(chat, new Uint8Array(150_000))); // one frame, but over our maxMessageBytes
    t.send('reliable', encodeMsg(chat, new TextEncoder().encode('still here')));
    await net.settle();
    expect(got).toEqual(['still here']);
    const reasons = warnings.filter((w) => w.message.includes('bad input')).map((w) => String(w.detail?.reason));
    expect(reasons).toHaveLength(7);
    expect(reasons.join('\n')).toMatch(/older meshparty/);
    expect(reasons.join('\n')).toMatch(/message of 150000 bytes over the 100000-byte limit/);
    expect(reasons.join('\n')).toMatch(/unknown frame kind 0x7f/);
    expect(reasons.join('\n')).toMatch(/truncated msg/);
    expect(reasons.join('\n')).toMatch(/unknown message 99/);
    expect(reasons.join('\n')).toMatch(/over the 100000-byte limit/);
    expect(reasons.join('\n')).toMatch(/unreliable/);
    expect(a.peers.has('z')).toBe(true);
    signaling.close();
    await a.leave();
  });

  it('cuts off a repeat offender: peer-left "misbehaving", and no reconnect while it stays in the room', async () => {
    const { net, a, rogue, offers, signaling } = await rogueNextTo({ maxStrikes: 5 });
    const left: string[] = [];
    a.on('peer-left', ({ id, reason }) => left.push(`${id}:${reason}`));
    for (let i = 0; i < 5; i++) rogue().send('reliable', Uint8Array.of(0x7f));
    await net.settle();
    expect(left).toEqual(['z:misbehaving']);
    expect(a.peers.size).toBe(0);
    const before = offers();
    await net.advance(30_000); // many retry periods: a must not offer again
    expect(offers()).toBe(before);
    expect(net.openConnections()).toBe(0);
    signaling.close();
    await a.leave();
  });
});

describe('room capacity', () => {
  it('refuses a newcomer over maxPeers with room-full, and the others stay connected', async () => {
    const net = createMemoryNetwork({ mesh: { maxPeers: 3 } });
    const rooms = ['a', 'b', 'c'].map((id) => net.join('r', { peerId: id }));
    await waitFor(() => rooms.every((r) => r.peers.size === 2), 'three peers connected');
    const d = net.join('r', { peerId: '0' });
    const errors: string[] = [];
    d.on('error', (e) => errors.push(e.code));
    await waitFor(() => d.status === 'closed', 'newcomer closed');
    expect(errors).toEqual(['room-full']);
    expect(net.openConnections()).toBe(3);
    await Promise.all(rooms.map((r) => r.leave()));
  });

  it('existing peers do not connect past their maxPeers even to a newcomer that ignores it', async () => {
    const net = createMemoryNetwork({ clock: new ManualClock(), mesh: { maxPeers: 2, logger: { debug() {}, warn() {} } } });
    const a = net.join('r', { peerId: 'b' });
    const b = net.join('r', { peerId: 'c' });
    await net.advance(100);
    expect(a.peers.size === 1 && b.peers.size === 1).toBe(true);
    for (const x of ['b', 'c']) expect([shouldInitiate('greedy-4', x), shouldInitiate('greedy-1', x)]).toEqual([true, false]);
    const greedy1 = net.join('r', { peerId: 'greedy-4', maxPeers: 16 }); // the glare rule makes it offer to b and c
    const greedy2 = net.join('r', { peerId: 'greedy-1', maxPeers: 16 }); // b and c would offer to it
    await net.advance(30_000);
    expect(a.peers.size).toBe(1);
    expect(b.peers.size).toBe(1);
    expect([...greedy1.peers.keys()]).toEqual(['greedy-1']);
    await Promise.all([a, b, greedy1, greedy2].map((r) => r.leave()));
  });

  it('a peer that came while we were at maxPeers is offered to as soon as a connection frees a slot', async () => {
    // The room holds more than maxPeers when a member's relay socket dropped for a moment
    // (its peer connections stay up) while a newcomer joined, or when members run with
    // different limits (here: d's is higher). The full side that offers to d (the glare
    // rule) gave up at once, and nothing made it try again when a slot freed.
    expect([shouldInitiate('f', 'd'), shouldInitiate('a', 'd')]).toEqual([true, false]);
    const net = createMemoryNetwork({ clock: new ManualClock(), latencyMs: 5, mesh: { maxPeers: 3, logger: { debug() {}, warn() {} } } });
    const f = net.join('r', { peerId: 'f' });
    const a = net.join('r', { peerId: 'a' });
    const c = net.join('r', { peerId: 'c' });
    await net.advance(2000);
    const d = net.join('r', { peerId: 'd', maxPeers: 8 });
    await net.advance(5000);
    expect(d.peers.size).toBe(0); // f, a and c are full
    await c.leave();
    await net.advance(1000);
    expect([...f.peers.keys()].sort()).toEqual(['a', 'd']);
    await net.advance(30_000); // d offers to a itself, again after its connect timeout
    expect([...d.peers.keys()].sort()).toEqual(['a', 'f']);
    expect([...a.peers.keys()].sort()).toEqual(['d', 'f']);
    await Promise.all([f, a, d].map((r) => r.leave()));
  });

  it('passes the relay\'s own room-full through as an error and closes', async () => {
    const net = createMemoryNetwork({ roomLimit: 2 });
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    const c = net.join('r', { peerId: 'c' });
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    await waitFor(() => c.status === 'closed', 'c closed');
    expect(errors).toEqual(['room-full']);
    await waitFor(() => a.peers.size === 1, 'a and b connected');
    await Promise.all([a, b, c].map((r) => r.leave()));
  });
});

describe('Room.disconnect (upper layers cutting off a peer)', () => {
  it('closes the connection, reports peer-left, and refuses the peer for banMs even when it leaves and rejoins at once', async () => {
    const net = createMemoryNetwork({ clock: new ManualClock(), mesh: { logger: { debug() {}, warn() {} } } });
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    await net.advance(100);
    const left: string[] = [];
    a.on('peer-left', ({ id, reason }) => left.push(`${id}:${reason}`));
    a.disconnect!('b', 'bad yjs update');
    await net.advance(30_000);
    expect(left).toEqual(['b:disconnected: bad yjs update']);
    expect(a.peers.size).toBe(0);
    expect(net.openConnections()).toBe(0);
    await b.leave();
    const b2 = net.join('r', { peerId: 'b' });
    await net.advance(1000);
    expect(a.peers.size).toBe(0); // 31 s into its 60 s ban (banMs)
    await net.advance(32_000);
    expect([...a.peers.keys()]).toEqual(['b']);
    await a.leave();
    await b2.leave();
  });
});
