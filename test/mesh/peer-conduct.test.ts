/**
 * Strikes for bad input count per peer id for the life of the room, expire after good
 * behaviour, and a peer cut off for them is refused for a back-off that doubles per
 * offence, whether it reconnects, stays or leaves and rejoins the relay room. Counted per
 * connection and banned only until the peer left the relay room, a peer could send
 * maxStrikes - 1 bad frames, reconnect and repeat for ever, and a cut-off peer rejoined
 * at once.
 */
import { describe, expect, it } from 'vitest';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { shouldInitiate } from '../../src/mesh/glare.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import type { MeshOptions } from '../../src/mesh/mesh-options.js';
import type { Room } from '../../src/mesh/types.js';
import { ManualClock } from '../../src/util/clock.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { rogueNextTo } from '../support/rogue-peer.js';
import { MAX_CONDUCT_RECORDS, PeerConduct } from '../../src/mesh/peer-conduct.js';

const BAD_FRAME = Uint8Array.of(0x7f); // an unknown frame kind: one strike

/** What `room` reports as `peer-left`, as `id:reason`, from now on. */
function leftAt(room: Room): string[] {
  const left: string[] = [];
  room.on('peer-left', ({ id, reason }) => left.push(`${id}:${reason}`));
  return left;
}

/** `a` on a ManualClock network, made with a transport factory that counts what it creates (WebRTC set-ups). */
function victim(mesh: Partial<MeshOptions>) {
  const net = createMemoryNetwork({ clock: new ManualClock(), mesh: { logger: silentLogger(), ...mesh } });
  const created: string[] = [];
  const factory = net.wire.factory('a');
  const a = createMesh({
    logger: silentLogger(),
    ...mesh,
    farewellTimeoutMs: 0,
    room: 'r',
    clock: net.clock,
    signaling: net.relay.client('r', 'a'),
    transports: { create: (o) => (created.push(o.remoteId), factory.create(o)) },
  });
  const left = leftAt(a);
  const refused: MeshpartyError[] = [];
  a.on('peer-refused', (e) => refused.push(e));
  return { net, a, created, left, refused };
}

describe('strikes per peer id', () => {
  it('bad frames across reconnects reach maxStrikes and cut the peer off', async () => {
    const { net, a, rogue, offers, signaling } = await rogueNextTo({ maxStrikes: 3 });
    const left = leftAt(a);
    for (let i = 0; i < 2; i++) rogue().send('reliable', BAD_FRAME);
    await net.settle();
    rogue().destroy(); // one short of the limit: start over on a new connection
    await net.advance(2000);
    expect(offers()).toBe(2);
    expect(a.peers.has('z')).toBe(true);
    rogue().send('reliable', BAD_FRAME);
    await net.settle();
    expect(left).toEqual(['z:remote closed', 'z:misbehaving']);
    expect(a.peers.size).toBe(0);
    signaling.close();
    await a.leave();
  });

  it('strikes an upper layer reports through room.strike count with the bad frames of the same peer', async () => {
    const { net, a, rogue, signaling } = await rogueNextTo({ maxStrikes: 3 });
    const left = leftAt(a);
    rogue().send('reliable', BAD_FRAME);
    await net.settle();
    a.strike!('z', 'a malformed yjs update');
    expect(left).toEqual([]);
    rogue().send('reliable', BAD_FRAME);
    await net.settle();
    expect(left).toEqual(['z:misbehaving']);
    signaling.close();
    await a.leave();
  });

  it('a strike expires strikeExpiryMs after it was counted: a glitch now and then never cuts a peer off', async () => {
    const { net, a, rogue, signaling } = await rogueNextTo({ maxStrikes: 3, strikeExpiryMs: 60_000, peerTimeoutMs: Infinity }); // the rogue answers no heartbeat
    const left = leftAt(a);
    for (let round = 0; round < 5; round++) {
      // Two bad frames (one short of the limit) a round, rounds a little over strikeExpiryMs apart.
      for (let i = 0; i < 2; i++) rogue().send('reliable', BAD_FRAME);
      await net.advance(61_000);
    }
    expect(left).toEqual([]);
    expect(a.peers.has('z')).toBe(true);
    // Within the window they add up.
    for (let i = 0; i < 3; i++) rogue().send('reliable', BAD_FRAME);
    await net.settle();
    expect(left).toEqual(['z:misbehaving']);
    signaling.close();
    await a.leave();
  });
});

describe('a peer cut off for bad input is refused for a back-off', () => {
  it('its offers are dropped unanswered (no connection made) during the ban, also after a rejoin, and accepted after it; a repeat offence doubles the ban', async () => {
    expect(shouldInitiate('b', 'a')).toBe(true); // b offers to a
    const { net, a, created, left, refused } = victim({ maxStrikes: 3, banMs: 60_000 });
    let b = net.join('r', { peerId: 'b' });
    await net.advance(500);
    expect(a.peers.has('b')).toBe(true);
    for (let i = 0; i < 3; i++) a.strike!('b', 'test');
    expect(left).toEqual(['b:misbehaving']);
    const made = created.length;
    await net.advance(30_000); // b offers again after its connect timeout
    expect(a.peers.size).toBe(0);
    expect(created.length).toBe(made);
    expect(refused.map((e) => [e.code, e.detail?.peer, e.detail?.bans])).toEqual([['bad-peer', 'b', 1]]);
    expect(refused[0]!.detail?.retryInMs).toBeGreaterThan(0);
    expect(refused[0]!.detail?.retryInMs).toBeLessThanOrEqual(60_000);
    // Leaving the relay room and rejoining at once does not lift the ban.
    await b.leave();
    b = net.join('r', { peerId: 'b' });
    await net.advance(20_000);
    expect(a.peers.size).toBe(0);
    expect(created.length).toBe(made);
    expect(refused).toHaveLength(1); // one event per ban; the rest are logged
    await net.advance(15_000); // the ban (60 s) has ended
    expect(a.peers.has('b') && b.peers.has('a')).toBe(true);
    // A second offence: 120 s.
    for (let i = 0; i < 3; i++) a.strike!('b', 'test');
    await net.advance(90_000);
    expect(a.peers.size).toBe(0);
    expect(refused.map((e) => e.detail?.bans)).toEqual([1, 2]);
    await net.advance(35_000);
    expect(a.peers.has('b')).toBe(true);
    await Promise.all([a.leave(), b.leave()]);
  });

  it('the side that offers makes no connection to a banned peer until the ban ends (room.disconnect bans too)', async () => {
    expect(shouldInitiate('a', 'c')).toBe(true); // a offers to c
    const { net, a, created, left, refused } = victim({ banMs: 60_000 });
    const c = net.join('r', { peerId: 'c' });
    await net.advance(500);
    expect(a.peers.has('c')).toBe(true);
    a.disconnect!('c', 'spam');
    expect(left).toEqual(['c:disconnected: spam']);
    const made = created.length;
    await net.advance(55_000);
    expect(created.length).toBe(made);
    expect(a.peers.size).toBe(0);
    // c asked a to start over (a restart request): refused like an offer.
    expect(refused.map((e) => [e.code, e.detail?.peer])).toEqual([['bad-peer', 'c']]);
    await net.advance(6000);
    expect(a.peers.has('c') && c.peers.has('a')).toBe(true);
    await Promise.all([a.leave(), c.leave()]);
  });

  it("room.disconnect's banMs refuses the peer at least that long, as one offence", async () => {
    const { net, a, left, refused } = victim({ banMs: 60_000 });
    const c = net.join('r', { peerId: 'c' });
    await net.advance(500);
    expect(() => a.disconnect!('c', 'spam', { banMs: -1 })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => a.disconnect!('c', 'spam', { banMs: Number.NaN })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(a.peers.has('c')).toBe(true); // refused options cut nobody off
    a.disconnect!('c', 'spam', { banMs: 300_000 });
    expect(left).toEqual(['c:disconnected: spam']);
    await net.advance(295_000);
    expect(a.peers.size).toBe(0);
    expect(refused.map((e) => e.detail?.bans)).toEqual([1]);
    expect(refused[0]!.detail?.retryInMs).toBeGreaterThan(60_000);
    await net.advance(10_000);
    expect(a.peers.has('c')).toBe(true);
    // A shorter banMs than the back-off leaves the back-off: the second ban is 120 s.
    a.disconnect!('c', 'spam', { banMs: 1000 });
    await net.advance(115_000);
    expect(a.peers.size).toBe(0);
    await net.advance(10_000);
    expect(a.peers.has('c')).toBe(true);
    await Promise.all([a.leave(), c.leave()]);
  });

  it('a well-behaved peer is unaffected: it reconnects at once after a failure or a rejoin while another is banned', async () => {
    const { net, a, left, refused } = victim({ maxStrikes: 3 });
    const c = net.join('r', { peerId: 'c' });
    let b = net.join('r', { peerId: 'b' });
    await net.advance(500);
    for (let i = 0; i < 3; i++) a.strike!('c', 'test');
    net.wire.fail('a', 'b');
    await net.advance(1000);
    expect(a.peers.has('b')).toBe(true);
    await b.leave();
    b = net.join('r', { peerId: 'b' });
    await net.advance(500);
    expect([...a.peers.keys()]).toEqual(['b']);
    expect(left.filter((l) => l.startsWith('c:'))).toEqual(['c:misbehaving']);
    expect(refused.every((e) => e.detail?.peer === 'c')).toBe(true);
    await Promise.all([a.leave(), b.leave(), c.leave()]);
  });
});

describe('the conduct book stays bounded without letting fresh ids erase bans', () => {
  const limits = { maxStrikes: 10, strikeExpiryMs: 600_000, banMs: 60_000 };

  it('a flood of fresh ids, each struck once, pushes out its own records, not a running ban', () => {
    const clock = new ManualClock();
    const conduct = new PeerConduct(limits, clock);
    conduct.ban('x');
    conduct.strike('h'); // an honest peer's glitch: forgiven first
    for (let i = 0; i < MAX_CONDUCT_RECORDS + 500; i++) conduct.strike(`fresh-${i}`);
    expect(conduct.size).toBe(MAX_CONDUCT_RECORDS);
    expect(conduct.bannedForMs('x')).toBe(60_000);
    clock.advance(60_000); // its ban over, its record still makes the next one longer
    for (let i = 0; i < MAX_CONDUCT_RECORDS; i++) conduct.mismatched(`other-${i}`);
    expect(conduct.ban('x')).toBe(120_000);
  });

  it('a new id is recorded in a full book: its strikes add up and its ban holds', () => {
    const conduct = new PeerConduct(limits, new ManualClock());
    for (let i = 0; i < MAX_CONDUCT_RECORDS; i++) conduct.strike(`fresh-${i}`);
    expect(conduct.strike('z')).toBe(1);
    expect(conduct.strike('z')).toBe(2);
    for (let i = 0; i < MAX_CONDUCT_RECORDS; i++) conduct.strike(`more-${i}`);
    conduct.ban('y');
    expect(conduct.bannedForMs('y')).toBe(60_000);
    expect(conduct.size).toBe(MAX_CONDUCT_RECORDS);
  });
});
