/**
 * Forwarding: two peers of a room that cannot connect to each other (a blocked pair on
 * the in-memory network) see each other's edits and presence through a common neighbour,
 * with nobody leaving; one forwarder per pair; nothing forwarded when every link is up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork, type MemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider, type MeshpartyProvider } from '../../src/yjs/provider.js';
import { YjsTag } from '../../src/yjs/protocol.js';
import { decodeLinks, encodeLinks, FORWARD_LOST_LINK_AFTER_MS, linksChannelName, LINKS_CLOSED, MAX_LINKS } from '../../src/yjs/forwarding.js';

interface Member {
  room: Room;
  doc: Y.Doc;
  provider: MeshpartyProvider;
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

function setup(blocked: Array<[string, string]> = []): { net: MemoryNetwork; clock: ManualClock; join: (id: string) => Member; text: (m: Member) => string } {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ seed: 3, clock, latencyMs: 20, mesh: { logger: silentLogger() } });
  for (const [a, b] of blocked) net.block(a, b);
  const join = (id: string): Member => {
    const room = net.join('r', { peerId: id });
    const doc = new Y.Doc();
    const provider = createYjsProvider(room, doc, { name: 'd', clock, log: () => {} });
    cleanup.push(async () => {
      provider.destroy();
      await room.leave();
    });
    return { room, doc, provider };
  };
  return { net, clock, join, text: (m) => m.doc.getText('t').toString() };
}

const forwarded = (...ms: Member[]) => ms.reduce((n, m) => n + m.provider.stats.forwarded, 0);

/** `room` as its provider sees it, with every forwarded message it sends dropped (and counted as sent). */
function dropForwarded(room: Room): Room {
  const bind = <T extends object>(target: T, key: string | symbol) => {
    const value = Reflect.get(target, key, target) as unknown;
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  };
  return new Proxy(room, {
    get: (target, key) =>
      key !== 'channel'
        ? bind(target, key)
        : (name: string, options?: Parameters<Room['channel']>[1]) => {
            const channel = target.channel(name, options);
            const dropped = (data: Uint8Array) => data[0] === YjsTag.ForwardedUpdate || data[0] === YjsTag.ForwardedAwareness;
            return new Proxy(channel, {
              get: (ch, k) => (k === 'send' ? (to: string, data: Uint8Array) => (dropped(data) ? Promise.resolve() : ch.send(to, data)) : bind(ch, k)),
            });
          },
  });
}

describe('forwarding through a common neighbour', () => {
  it('edits and presence of a blocked pair arrive both ways through the third peer, nobody leaving', async () => {
    const { net, join, text } = setup([['a', 'b']]);
    const [a, b, c] = ['a', 'b', 'c'].map(join) as [Member, Member, Member];
    await net.advance(5000); // a pair is forwarded once it has looked unconnected for 3 s
    expect(a.room.peers.has('b')).toBe(false);
    expect(a.room.peers.has('c') && b.room.peers.has('c')).toBe(true);
    a.doc.getText('t').insert(0, 'from a');
    await net.advance(500);
    expect(text(b)).toBe('from a');
    b.doc.getText('t').insert(6, ', from b');
    a.provider.awareness.setLocalStateField('user', 'ada');
    await net.advance(500);
    expect(text(a)).toBe('from a, from b');
    expect(text(c)).toBe('from a, from b');
    expect(b.provider.awareness.getStates().get(a.doc.clientID)).toEqual({ user: 'ada' });
    expect(c.provider.stats.forwarded).toBeGreaterThan(0);
    expect(forwarded(a, b)).toBe(0); // a and b have nobody to forward to
  });

  it('presence passed on goes when its peer goes: a goodbye is passed on, and so is a vanished peer noticed by the forwarder', async () => {
    const { net, join } = setup([['a', 'b'], ['a', 'd']]);
    const [a, b, , d] = ['a', 'b', 'c', 'd'].map(join) as [Member, Member, Member, Member];
    await net.advance(5000);
    b.provider.awareness.setLocalStateField('user', 'bea');
    d.provider.awareness.setLocalStateField('user', 'dan');
    await net.advance(500);
    const shown = () => [...a.provider.awareness.getStates().values()].map((st) => (st as { user?: string }).user).filter(Boolean).sort();
    expect(shown()).toEqual(['bea', 'dan']);
    b.provider.destroy(); // its goodbye reaches c, which passes it on
    await net.advance(500);
    expect(shown()).toEqual(['dan']);
    net.disconnect('d'); // no goodbye: c notices in about 3 s and tells a
    await net.advance(4000);
    expect(shown()).toEqual([]);
  });

  it('presence passed on is never passed on again: a forwarder that goes does not take a live peer\'s presence with it', async () => {
    // c passes b's presence on to a (a-b blocked); a forwards c to x (c-x blocked). b's
    // client counts as c's at a, but it is not c's: when c goes, a must tell x only that
    // c's own client is gone, or x, connected to b, stops showing b.
    const { net, join } = setup([['a', 'b'], ['c', 'x']]);
    const [a, b, c, x] = ['a', 'b', 'c', 'x'].map(join) as [Member, Member, Member, Member];
    await net.advance(5000);
    b.provider.awareness.setLocalStateField('user', 'bea');
    c.provider.awareness.setLocalStateField('user', 'cid');
    await net.advance(500);
    const shown = (m: Member) => [...m.provider.awareness.getStates().values()].map((st) => (st as { user?: string }).user).filter(Boolean).sort();
    expect(shown(a)).toEqual(['bea', 'cid']);
    expect(shown(x)).toEqual(['bea', 'cid']);
    c.provider.destroy();
    await c.room.leave();
    cleanup.splice(2, 1); // c is gone already
    await net.advance(500);
    expect(shown(x)).toEqual(['bea']);
  });

  it('with every link up, nothing is forwarded', async () => {
    const { net, join, text } = setup();
    const ms = ['a', 'b', 'c', 'd'].map(join);
    await net.advance(2000);
    const before = forwarded(...ms);
    ms.forEach((m, i) => m.doc.getText('t').insert(0, `${i}`));
    ms[0]!.provider.awareness.setLocalStateField('user', 'ada');
    await net.advance(1000);
    expect(new Set(ms.map(text)).size).toBe(1);
    expect(text(ms[0]!)).toHaveLength(4);
    expect(forwarded(...ms)).toBe(before);
    expect(before).toBe(0); // the mesh formed without anyone passing anything on either
  });

  it('a link that breaks between two members is forwarded after about a second, not the 3 s a forming pair waits', async () => {
    const { net, join, text } = setup();
    const [a, b, c] = ['a', 'b', 'c'].map(join) as [Member, Member, Member];
    await net.advance(5000);
    expect(forwarded(a, b, c)).toBe(0);
    net.block('a', 'b'); // both ends see it close; it cannot connect again
    await net.advance(100);
    expect(a.room.peers.has('b')).toBe(false);
    a.doc.getText('t').insert(0, 'after the break');
    await net.advance(FORWARD_LOST_LINK_AFTER_MS + 200);
    expect(text(b)).toBe('after the break');
    b.doc.getText('t').insert(0, '> ');
    await net.advance(300);
    expect(text(a)).toBe('> after the break');
    expect(c.provider.stats.forwarded).toBeGreaterThan(0);
  });

  it('only the lowest common neighbour forwards; when it leaves, the next one takes over', async () => {
    const { net, join, text } = setup([['a', 'b']]);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(join) as [Member, Member, Member, Member];
    await net.advance(5000);
    a.doc.getText('t').insert(0, 'one');
    await net.advance(500);
    expect(text(b)).toBe('one');
    expect(c.provider.stats.forwarded).toBeGreaterThan(0);
    expect(d.provider.stats.forwarded).toBe(0);
    c.provider.destroy();
    await c.room.leave();
    cleanup = cleanup.slice(0, 2).concat(cleanup.slice(3)); // c is gone already
    await net.advance(300); // d, long a reserve of the pair, takes it on at once
    const before = d.provider.stats.forwarded;
    a.doc.getText('t').insert(3, ' two');
    await net.advance(500);
    expect(text(b)).toBe('one two'); // no departure since the edit: only forwarding brings it
    b.doc.getText('t').insert(0, '>');
    await net.advance(500);
    expect(text(a)).toBe('>one two');
    expect(d.provider.stats.forwarded - before).toBe(2); // one edit each way
  });

  it('a forwarder whose provider is destroyed while it stays in the room is replaced', async () => {
    // c switches documents: it stays connected to a, b and d but no longer runs "d". Its
    // links must stop counting, or d leaves a-b to c for as long as c stays.
    const { net, clock, join, text } = setup([['a', 'b']]);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(join) as [Member, Member, Member, Member];
    await net.advance(5000);
    const dropped: string[] = [];
    for (const m of [a, b, d]) m.provider.on('dropped', ({ reason }) => dropped.push(reason));
    c.provider.destroy();
    await net.advance(3500); // d takes the pair on (and c's 'closed' is not a bad message)
    expect(c.room.peers.size).toBe(3);
    a.doc.getText('t').insert(0, 'after c closed');
    await net.advance(500);
    expect(text(b)).toBe('after c closed');
    expect(d.provider.stats.forwarded).toBeGreaterThan(0);
    expect(dropped).toEqual([]); // the closing message is no bad message
    // c opens the document again: it is the forwarder again, and d stops.
    const again = createYjsProvider(c.room, c.doc, { name: 'd', clock, log: () => {} });
    cleanup.push(async () => again.destroy());
    await net.advance(3500);
    const before = [d.provider.stats.forwarded, again.stats.forwarded];
    b.doc.getText('t').insert(0, '>');
    await net.advance(500);
    expect(text(a)).toBe('>after c closed');
    expect([d.provider.stats.forwarded, again.stats.forwarded]).toEqual([before[0], before[1]! + 1]);
  });

  it('a forwarder that drops what it should pass on is worked around by the next common neighbour', async () => {
    // c is the lowest common neighbour of a and b and says so honestly, but passes nothing
    // on (a bug, or a member that lies). Nobody leaves, so only d's reserve check, every
    // 30 s from when the pair first looked apart for 3 s, brings the pair's edits across.
    const { net, clock, join, text } = setup([['a', 'b']]);
    const [a, b] = ['a', 'b'].map(join) as [Member, Member];
    const cRoom = net.join('r', { peerId: 'c' });
    const c = createYjsProvider(dropForwarded(cRoom), new Y.Doc(), { name: 'd', clock, log: () => {} });
    cleanup.push(async () => (c.destroy(), await cRoom.leave()));
    const d = join('d');
    await net.advance(5000);
    a.doc.getText('t').insert(0, 'from a');
    b.doc.getText('t').insert(0, 'from b, ');
    await net.advance(5000);
    expect([text(a), text(b)]).toEqual(['from a', 'from b, ']); // c dropped them
    expect(c.stats.forwarded).toBeGreaterThan(0);
    expect(d.provider.stats.forwarded).toBe(0); // d leaves the pair to c
    await net.advance(22_000); // 32 s in: the first check is still to come
    expect([text(a), text(b)]).toEqual(['from a', 'from b, ']);
    await net.advance(3000);
    expect(text(a)).toBe(text(d));
    expect(text(b)).toBe(text(d));
    expect(text(a)).toContain('from a');
    expect(text(a)).toContain('from b, ');
  });

  it('while the forwarder does its work, a reserve check costs a few small messages', async () => {
    const { net, join } = setup([['a', 'b']]);
    const ms = ['a', 'b', 'c', 'd'].map(join);
    await net.advance(5000);
    const before = ms.map((m) => ({ ...m.provider.stats }));
    await net.advance(60_000); // d checks a and b twice
    // d: a hello and its answer to the recheck per end and check; a and b: their answer,
    // their recheck and their presence (sent again on a hello); c forwards nothing.
    expect(ms.map((m, i) => m.provider.stats.messages - before[i]!.messages)).toEqual([6, 6, 0, 8]);
    for (const [i, m] of ms.entries()) expect(m.provider.stats.bytes - before[i]!.bytes).toBeLessThan(100);
  });

  it('five peers with two broken links converge while the links stay broken', async () => {
    const { net, join, text } = setup([['a', 'b'], ['c', 'd']]);
    const ms = ['a', 'b', 'c', 'd', 'e'].map(join);
    await net.advance(5000);
    ms.forEach((m, i) => m.doc.getText('t').insert(0, `${i}`));
    await net.advance(1000);
    expect(new Set(ms.map(text)).size).toBe(1);
    expect(text(ms[0]!).split('').sort().join('')).toBe('01234');
    expect(net.openConnections()).toBe(8);
  });

  it('each edit is forwarded once, though the two forwarders of two blocked pairs cannot reach each other', async () => {
    // a-b are forwarded by c, c-d by a: c and a cannot see each other's links through d or
    // b, but every candidate hears both ends' links, which list the same common neighbours.
    const { net, join, text } = setup([['a', 'b'], ['c', 'd']]);
    const ms = ['a', 'b', 'c', 'd', 'e', 'f'].map(join);
    await net.advance(5000);
    for (const [i, m] of ms.entries()) {
      const before = ms.map((x) => x.provider.stats.forwarded);
      m.doc.getText('t').insert(0, `${i}`);
      await net.advance(500);
      const by = ms.map((x, j) => x.provider.stats.forwarded - before[j]!);
      expect(by, `edit of ${'abcdef'[i]}`).toEqual([[0, 0, 1, 0, 0, 0], [0, 0, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]][i]);
    }
    expect(new Set(ms.map(text)).size).toBe(1);
  });

  it('a peer that joins reaching only one member gets the whole document, and its edits reach the rest', async () => {
    const { net, join, text } = setup([['j', 'a'], ['j', 'b']]);
    const [a, b, c] = ['a', 'b', 'c'].map(join) as [Member, Member, Member];
    await net.advance(2000);
    a.doc.getText('t').insert(0, 'a');
    b.doc.getText('t').insert(0, 'b');
    c.doc.getText('t').insert(0, 'c');
    await net.advance(500);
    const j = join('j');
    await net.advance(500);
    expect([...j.room.peers.keys()]).toEqual(['c']);
    expect(text(j)).toBe(text(a)); // from c, at once
    await net.advance(3000);
    expect(text(j)).toHaveLength(3);
    j.doc.getText('t').insert(0, 'j');
    await net.advance(500);
    expect(text(a)).toBe(text(j));
    expect(text(b)).toBe(text(j));
  });

  it('junk on the links channel is dropped with a reason and counts as a strike', async () => {
    const { net, join } = setup();
    const [a] = ['a'].map(join) as [Member];
    const bad = net.join('r', { peerId: 'b' });
    cleanup.push(() => bad.leave());
    const doc = createYjsProvider(bad, new Y.Doc(), { name: 'd', log: () => {} });
    cleanup.push(async () => doc.destroy());
    await net.advance(2000);
    const dropped: string[] = [];
    a.provider.on('dropped', ({ from, reason }) => dropped.push(`${from}: ${reason}`));
    const links = bad.channel(linksChannelName('d'));
    await links.send('a', new Uint8Array([5, 1])); // five ids promised, one truncated byte
    await links.send('a', encodeLinks(['b'])); // itself
    await net.advance(100);
    expect(dropped).toEqual([expect.stringMatching(/^b: malformed links/), 'b: links list the sender itself']);
    expect(a.room.peers.has('b')).toBe(true);
    await links.send('a', encodeLinks(['x'.repeat(200)]));
    await net.advance(100);
    expect(dropped[2]).toBe('b: links list a peer id of 200 characters');
    expect(a.room.peers.has('b')).toBe(false); // third strike: cut off
  });

  it('a peer whose links claim a pair it is not connected to does not stop its forwarding', async () => {
    // "0" sorts before every other id: if c took its word that it reaches a and b, c would
    // leave the pair to it and a and b would not hear each other.
    const { net, join, text } = setup([['a', 'b'], ['0', 'a'], ['0', 'b']]);
    const [a, b] = ['a', 'b', 'c'].map(join) as [Member, Member, Member];
    const liar = net.join('r', { peerId: '0' });
    cleanup.push(() => liar.leave());
    await net.advance(1000);
    const links = liar.channel(linksChannelName('d'));
    await links.send('c', encodeLinks(['a', 'b', 'c']));
    await net.advance(5000);
    a.doc.getText('t').insert(0, 'from a');
    await net.advance(500);
    expect(text(b)).toBe('from a');
  });

  it('a peer that says closed and links again and again does not make every peer send its links to all', async () => {
    // Each closed makes a peer stop listing the sender and each links list it again: every
    // such change goes to every peer. Taken at once, 100 toggles cost the room 100 rounds.
    const { net, clock, join } = setup([['a', 'b']]);
    join('a');
    join('b');
    join('c');
    const toggler = net.join('r', { peerId: 't' });
    const own = createYjsProvider(toggler, new Y.Doc(), { name: 'd', clock, log: () => {} });
    cleanup.push(async () => (own.destroy(), await toggler.leave()));
    await net.advance(5000);
    const links = toggler.channel(linksChannelName('d'));
    let heard = 0;
    links.on('message', () => heard++);
    for (let i = 0; i < 100; i++) {
      for (const to of ['a', 'b', 'c']) void links.send(to, i % 2 === 0 ? LINKS_CLOSED : encodeLinks(['a', 'b', 'c']));
      await net.advance(10);
    }
    await net.advance(5000);
    expect(heard).toBeLessThanOrEqual(3 * 4); // a, b and c: at most a change each way per 3 s
  });

  it('links messages are bounded: too many ids, an id twice, trailing bytes are refused', () => {
    const ids = Array.from({ length: MAX_LINKS }, (_, i) => `p${i}`);
    expect(decodeLinks(encodeLinks(ids), 'me')).toEqual(new Set(ids));
    expect(decodeLinks(encodeLinks([...ids, 'one more']), 'me')).toBe(`links list ${MAX_LINKS + 1} peers, over ${MAX_LINKS}`);
    expect(decodeLinks(encodeLinks(['a', 'a']), 'me')).toBe('links list a twice');
    expect(decodeLinks(encodeLinks([]), 'me')).toEqual(new Set());
    expect(decodeLinks(new Uint8Array([...encodeLinks(['a']), 0]), 'me')).toBe('trailing bytes after links');
    expect(decodeLinks(encodeLinks(['']), 'me')).toBe('links list a peer id of 0 characters');
    expect(decodeLinks(LINKS_CLOSED, 'me')).toBeNull(); // the sender's provider stopped
  });
});
