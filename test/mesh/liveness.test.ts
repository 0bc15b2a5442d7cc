import { describe, expect, it } from 'vitest';
import { shouldInitiate } from '../../src/mesh/glare.js';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { MemoryRelay } from '../../src/signaling-client/memory-signaling.js';
import type { Signaling, SignalingEvents } from '../../src/signaling-client/types.js';
import { MemoryWire } from '../../src/transport/memory.js';
import { ManualClock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import { waitFor } from '../support/net.js';

const fullMesh = (rooms: Room[]) => rooms.every((r) => r.peers.size === rooms.length - 1);

function setup(ids: string[], latencyMs = 0) {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ clock, latencyMs, mesh: { logger: silentLogger() } });
  const rooms = new Map(ids.map((id) => [id, net.join('r', { peerId: id })]));
  const left: Array<{ at: string; id: string; reason: string; t: number }> = [];
  const joined: Array<{ at: string; id: string }> = [];
  for (const [at, room] of rooms) {
    room.on('peer-left', ({ id, reason }) => left.push({ at, id, reason, t: clock.now() }));
    room.on('peer-joined', ({ id }) => joined.push({ at, id }));
  }
  return { clock, net, rooms, all: [...rooms.values()], left, joined };
}

/** a and b joining room r on a memory network with a ManualClock (not advanced yet). */
function twoPeers() {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ clock, mesh: { logger: silentLogger() } });
  return { clock, net, a: net.join('r', { peerId: 'a' }), b: net.join('r', { peerId: 'b' }) };
}

describe('heartbeats and liveness', () => {
  it('measures a smoothed RTT per peer from heartbeats', async () => {
    const { net, rooms, all } = setup(['a', 'b'], 40);
    const samples: number[] = [];
    rooms.get('a')!.on('rtt', ({ id, rttMs }) => id === 'b' && samples.push(rttMs));
    await net.advance(3000);
    expect(fullMesh(all)).toBe(true);
    expect(samples.length).toBeGreaterThanOrEqual(4);
    // 40 ms each way, so 80 ms round trip, in simulated time.
    expect(rooms.get('a')!.peers.get('b')!.rttMs).toBeCloseTo(80, 5);
    expect(rooms.get('b')!.peers.get('a')!.rttMs).toBeCloseTo(80, 5);
    // A slower link moves the smoothed figure gradually, not in one jump.
    net.setLink('a', 'b', { latencyMs: 140 });
    await net.advance(1100);
    const mid = rooms.get('a')!.peers.get('b')!.rttMs!;
    expect(mid).toBeGreaterThan(80);
    expect(mid).toBeLessThan(280);
    await Promise.all(all.map((r) => r.leave()));
  });

  it('reports a vanished peer as peer-left on every other peer within 3 s, and does not reconnect to it', async () => {
    const { net, clock, all, left } = setup(['a', 'b', 'c', 'd']);
    await net.advance(1000);
    expect(fullMesh(all)).toBe(true);
    const t0 = clock.now();
    net.disconnect('c');
    await net.advance(5000);
    const aboutC = left.filter((l) => l.id === 'c');
    expect(aboutC.map((l) => l.at).sort()).toEqual(['a', 'b', 'd']);
    for (const l of aboutC) {
      // The relay saw its socket go, so the others probe it and give up after leftProbeMs.
      expect(l.reason).toBe('vanished');
      expect(l.t - t0).toBeLessThan(1500);
    }
    await net.advance(30_000);
    expect(net.openConnections()).toBe(3); // a, b, d among themselves
    await Promise.all(all.map((r) => r.leave()));
  });

  it('times out a peer the relay still believes in within 3 s (heartbeats alone)', async () => {
    const { net, clock, all, left } = setup(['a', 'b', 'c']);
    await net.advance(1000);
    expect(fullMesh(all)).toBe(true);
    const t0 = clock.now();
    net.wire.disconnect('c'); // its data channels go silent; its relay socket stays
    await net.advance(5000);
    const aboutC = left.filter((l) => l.id === 'c');
    expect(aboutC.map((l) => l.at).sort()).toEqual(['a', 'b']);
    for (const l of aboutC) {
      expect(l.reason).toBe('timeout');
      expect(l.t - t0).toBeLessThan(3000);
    }
    await Promise.all(all.map((r) => r.leave()));
  });

  it('keeps probing after a window that heard the peer, and drops it at the first silent one', async () => {
    const { net, clock, all, left } = setup(['a', 'b', 'c'], 5);
    await net.advance(1000);
    expect(fullMesh(all)).toBe(true);
    const t0 = clock.now();
    net.relay.vanish('c'); // the relay loses c, which still answers for a while ...
    await net.advance(500);
    net.wire.disconnect('c'); // ... and then dies for good
    await net.advance(5000);
    const aboutC = left.filter((l) => l.id === 'c');
    expect(aboutC.map((l) => l.at).sort()).toEqual(['a', 'b']);
    for (const l of aboutC) {
      // First window heard c; the second is silent: ~2 s, before the heartbeat timeout.
      expect(l.reason).toBe('vanished');
      expect(l.t - t0).toBeLessThanOrEqual(2100);
    }
    await Promise.all(all.map((r) => r.leave()));
  });

  it('keeps a live peer whose relay connection dropped: it answers the probe', async () => {
    const { net, all, left } = setup(['a', 'b', 'c'], 20);
    await net.advance(1000);
    expect(fullMesh(all)).toBe(true);
    net.relay.kick('c');
    await net.advance(5000);
    expect(left).toEqual([]);
    expect(fullMesh(all)).toBe(true);
    await Promise.all(all.map((r) => r.leave()));
  });

  it('leaves no probe timer behind after leave()', async () => {
    const { clock, net, a, b } = twoPeers();
    await net.advance(100);
    expect(a.peers.has('b')).toBe(true);
    net.relay.kick('b'); // the relay drops b: a probes b's open connection
    await net.settle();
    await b.leave();
    await a.leave();
    await net.settle();
    expect(clock.pending).toBe(0);
  });

  it('leaves no heartbeat timer behind when a peer-left listener leaves the room on a heartbeat timeout', async () => {
    const { clock, net, a, b } = twoPeers();
    await net.advance(1000);
    const left: string[] = [];
    a.on('peer-left', ({ reason }) => {
      left.push(reason);
      void a.leave(); // e.g. a two-player game that ends when the other player is gone
    });
    net.wire.disconnect('b'); // b falls silent; the relay still lists it, so only the heartbeat notices
    for (let t = 0; t < 5000 && a.status !== 'closed'; t += 50) await net.advance(50);
    expect(left).toEqual(['timeout']);
    await b.leave();
    await net.settle();
    // The heartbeat tick that dropped b re-armed itself after leave() had stopped it.
    expect(clock.pending).toBe(0);
  });

  it('makes no connection after a peer-left listener leaves the room on a replaced connection', async () => {
    const { clock, net, a, b } = twoPeers();
    await net.advance(1000);
    const [initiator, responder, initiatorId] = shouldInitiate('a', 'b') ? [a, b, 'a'] : [b, a, 'b'];
    const left: string[] = [];
    responder.on('peer-left', ({ reason }) => {
      left.push(reason);
      void responder.leave();
    });
    // Only the initiator sees the failure: its new offer makes the responder replace its connection.
    net.wire.fail('a', 'b', initiatorId);
    await net.advance(1000);
    expect(left).toEqual(['replaced']);
    expect(responder.status).toBe('closed');
    await initiator.leave();
    await net.settle();
    // The responder answered the offer after leave(): a transport and its connect timer outlived it.
    expect(clock.pending).toBe(0);
  });

  it('reports a peer that leaves on purpose at once (goodbye), with no reconnect', async () => {
    const { net, rooms, all, left } = setup(['a', 'b', 'c']);
    await net.advance(1000);
    await rooms.get('b')!.leave();
    await net.settle();
    expect(left.filter((l) => l.id === 'b').map((l) => `${l.at}:${l.reason}`).sort()).toEqual(['a:left', 'c:left']);
    await net.advance(20_000);
    expect(net.openConnections()).toBe(1);
    await Promise.all(all.map((r) => r.leave()));
  });

  it('reconnects after a partition heals, with exactly one connection per pair', async () => {
    const { net, all, left, joined } = setup(['a', 'b', 'c', 'd', 'e'], 5);
    await net.advance(1000);
    expect(net.openConnections()).toBe(10);
    net.partition([['a', 'b'], ['c', 'd', 'e']]);
    await net.advance(1000);
    // Cross-group pairs: 2 * 3 = 6, each seen from both sides.
    expect(left).toHaveLength(12);
    expect(net.openConnections()).toBe(4);
    await net.advance(20_000); // retries while partitioned do not connect
    expect(net.openConnections()).toBe(4);
    joined.length = 0;
    net.heal();
    await net.advance(20_000);
    expect(fullMesh(all)).toBe(true);
    expect(net.openConnections()).toBe(10);
    expect(joined).toHaveLength(12);
    await Promise.all(all.map((r) => r.leave()));
  });

  it('keeps peer connections working through a relay outage and rejoins after it', async () => {
    const { net, rooms, all, left } = setup(['a', 'b', 'c']);
    await net.advance(1000);
    const statuses: string[] = [];
    rooms.get('a')!.on('status', (s) => statuses.push(s));
    net.setRelayUp(false);
    await net.advance(10_000);
    expect(rooms.get('a')!.status).toBe('reconnecting');
    expect(left).toHaveLength(0);
    expect(fullMesh(all)).toBe(true);
    const got: string[] = [];
    rooms.get('c')!.channel('x').on('message', ({ from }) => got.push(from));
    await rooms.get('a')!.channel('x').send('c', new Uint8Array([1]));
    await net.advance(100);
    expect(got).toEqual(['a']);
    net.setRelayUp(true);
    await net.advance(10_000);
    expect(statuses).toEqual(['reconnecting', 'connected']);
    expect(left).toHaveLength(0);
    expect(net.openConnections()).toBe(3);
    // A newcomer after the outage still meets everyone.
    const d = net.join('r', { peerId: 'd' });
    await net.advance(1000);
    expect(fullMesh([...all, d])).toBe(true);
    expect(net.openConnections()).toBe(6);
    await Promise.all([...all, d].map((r) => r.leave()));
  });
});

describe('failure recovery', () => {
  for (const [label, only] of [
    ['both sides see the failure', undefined],
    ['only the initiator sees it', shouldInitiate('a', 'b') ? 'a' : 'b'],
    ['only the responder sees it', shouldInitiate('a', 'b') ? 'b' : 'a'],
  ] as const) {
    it(`re-establishes a failed connection through signaling, once, when ${label}`, async () => {
      const { net, clock, rooms, left, joined } = setup(['a', 'b', 'c'], 5);
      await net.advance(1000);
      expect(net.openConnections()).toBe(3);
      joined.length = 0;
      const t0 = clock.now();
      net.wire.fail('a', 'b', only);
      await net.advance(10_000);
      expect(net.openConnections()).toBe(3);
      expect(left.map((l) => `${l.at}<-${l.id}`).sort()).toEqual(['a<-b', 'b<-a']);
      expect(joined.map((j) => `${j.at}<-${j.id}`).sort()).toEqual(['a<-b', 'b<-a']);
      // Recovered well before a heartbeat timeout would have noticed.
      for (const l of left) expect(l.t - t0).toBeLessThan(1000);
      const got: string[] = [];
      rooms.get('b')!.channel('x').on('message', ({ from }) => got.push(from));
      await rooms.get('a')!.channel('x').send('b', new Uint8Array([1]));
      await net.advance(50);
      expect(got).toEqual(['a']);
      await Promise.all([...rooms.values()].map((r) => r.leave()));
    });
  }
});

describe('timeouts set to Infinity', () => {
  it('connectTimeoutMs: Infinity means no connect timeout (the real clock took it as 1 ms and no connection ever opened)', async () => {
    // Real timers: the platform's setTimeout is what misread the delay.
    const net = createMemoryNetwork({ latencyMs: 20, mesh: { connectTimeoutMs: Infinity, logger: silentLogger() } });
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    await waitFor(() => a.peers.has('b') && b.peers.has('a'), 'a and b connected', 2000);
    await Promise.all([a.leave(), b.leave()]);
  });
});

describe('network change (relay and peer connection lost together)', () => {
  it('reconnects as soon as the relay is back, not after the connect timeout', async () => {
    // A laptop changing networks loses its relay socket and its peer connections at once.
    // The initiator's retry offer, made while it was out of the relay, was dropped; the
    // connection then waited out connectTimeoutMs (15 s) for an answer that never came.
    const { net, clock, rooms } = setup(['a', 'b'], 10);
    await net.advance(1000);
    net.setRelayUp(false);
    net.partition([['a'], ['b']]);
    await net.advance(1000);
    net.heal();
    net.setRelayUp(true);
    const back = clock.now();
    for (let t = 0; t < 20_000 && !fullMesh([...rooms.values()]); t += 50) await net.advance(50);
    expect(fullMesh([...rooms.values()])).toBe(true);
    expect(clock.now() - back).toBeLessThan(1000);
    await Promise.all([...rooms.values()].map((r) => r.leave()));
  });
});

/**
 * A relay client whose socket goes half dead and then resumes with its resume key: the
 * relay keeps the membership throughout, so nobody hears peer-left or peer-joined, and
 * signals to and from it are lost meanwhile.
 */
function resumableSignaling(relay: MemoryRelay, room: string, id: string): Signaling & { goAway(): void; resume(): void } {
  const inner = relay.client(room, id);
  const events = new Emitter<SignalingEvents>();
  let away = false;
  let peers: string[] = [];
  inner.on('joined', (j) => {
    peers = j.peers;
    events.emit('joined', j);
  });
  inner.on('peer-joined', (p) => {
    peers = [...peers, p];
    if (!away) events.emit('peer-joined', p);
  });
  inner.on('peer-left', (p) => {
    peers = peers.filter((x) => x !== p);
    if (!away) events.emit('peer-left', p);
  });
  inner.on('signal', (sig) => !away && events.emit('signal', sig));
  inner.on('status', (st) => events.emit('status', st));
  return {
    get status() {
      return away ? 'reconnecting' : inner.status;
    },
    join: () => inner.join(),
    close: () => inner.close(),
    sendSignal: (to, data) => !away && inner.sendSignal(to, data),
    on: (event, listener) => events.on(event, listener),
    goAway() {
      away = true;
      events.emit('status', 'reconnecting');
    },
    resume() {
      away = false;
      events.emit('status', 'connected');
      events.emit('joined', { selfId: id, peers, fresh: false });
    },
  };
}

describe('responder that resumes its relay connection', () => {
  it('gets the offer it missed again ~2 s after it asks, not after the connect timeout', async () => {
    // The responder's network changes: its peer connection fails and its relay socket is
    // half dead when the initiator retries, so the offer is lost; it resumes its
    // membership (nobody hears it was gone) and asks for a connection, which the
    // initiator, its own connection forming, took for one crossing its offer and ignored
    // until connectTimeoutMs (15 s) ran out.
    const [init, resp] = shouldInitiate('a', 'b') ? ['a', 'b'] : ['b', 'a'];
    const clock = new ManualClock();
    const relay = new MemoryRelay();
    const wire = new MemoryWire({ clock, latencyMs: 10 });
    const base = { room: 'r', clock, logger: silentLogger(), farewellTimeoutMs: 0 };
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    };
    const advance = async (ms: number) => {
      await settle();
      await clock.advanceAsync(ms);
      await settle();
    };
    const first = createMesh({ ...base, signaling: relay.client('r', init), transports: wire.factory(init) });
    const signaling = resumableSignaling(relay, 'r', resp);
    const second = createMesh({ ...base, signaling, transports: wire.factory(resp) });
    await advance(1000);
    expect([first.peers.has(resp), second.peers.has(init)]).toEqual([true, true]);
    signaling.goAway();
    wire.fail(init, resp);
    await advance(1000);
    signaling.resume();
    const back = clock.now();
    for (let t = 0; t < 20_000 && !(first.peers.has(resp) && second.peers.has(init)); t += 50) await advance(50);
    expect([first.peers.has(resp), second.peers.has(init)]).toEqual([true, true]);
    expect(clock.now() - back).toBeLessThan(3000);
    await Promise.all([first.leave(), second.leave()]);
    await advance(1000); // frames still in flight on the 10 ms link
    expect(clock.pending).toBe(0);
  });
});

describe('restarted peer', () => {
  it('a peer that restarts with the same id is reconnected at once, not after a heartbeat timeout', async () => {
    const { net, clock, rooms, left, joined } = setup(['a', 'b', 'c'], 5);
    await net.advance(1000);
    // Process "b" dies without a goodbye, then comes back under the same id.
    net.disconnect('b');
    await rooms.get('b')!.leave();
    net.restore('b');
    const t0 = clock.now();
    joined.length = 0;
    const b2 = net.join('r', { peerId: 'b' });
    const b2joined: string[] = [];
    b2.on('peer-joined', ({ id }) => b2joined.push(id));
    await net.advance(400);
    // The glare rule makes b2 the offerer towards one of a, c and the responder towards
    // the other: both paths must reconnect at once.
    expect(shouldInitiate('b', 'a')).not.toBe(shouldInitiate('b', 'c'));
    expect(b2joined.sort()).toEqual(['a', 'c']);
    expect(joined.filter((j) => j.id === 'b').map((j) => j.at).sort()).toEqual(['a', 'c']);
    for (const l of left.filter((l) => l.id === 'b' && l.at !== 'b')) expect(l.t - t0).toBeLessThan(400);
    await net.advance(10_000);
    expect(net.openConnections()).toBe(3);
    await Promise.all([rooms.get('a')!, rooms.get('c')!, b2].map((r) => r.leave()));
  });
});

describe('local stalls', () => {
  it('does not time peers out when this process itself stalled past the timeout', async () => {
    // A clock whose now() can jump while timers stay where they were: what a blocked
    // event loop sees when it resumes (every timer late, peers' frames still unread).
    const base = new ManualClock();
    let jump = 0;
    const clock = { now: () => base.now() + jump, setTimeout: base.setTimeout.bind(base), clearTimeout: base.clearTimeout.bind(base) };
    const net = createMemoryNetwork({ clock, mesh: { logger: silentLogger() } });
    const a = net.join('r', { peerId: 'a' });
    const b = net.join('r', { peerId: 'b' });
    const left: string[] = [];
    a.on('peer-left', ({ id }) => left.push(id));
    b.on('peer-left', ({ id }) => left.push(id));
    await net.settle();
    await base.advanceAsync(1000);
    expect(net.openConnections()).toBe(1);
    jump += 10_000;
    await base.advanceAsync(3000);
    expect(left).toEqual([]);
    expect(net.openConnections()).toBe(1);
    // A peer that really went silent is still timed out after the stall.
    net.disconnect('b');
    await base.advanceAsync(3000);
    expect(left).toContain('b');
    await a.leave();
    await b.leave();
  });
});

describe('restarted peer whose goodbye arrives late', () => {
  it('is reconnected when the old process\'s BYE lands after the relay announced its successor', async () => {
    // The restarted peer is the responder: it sends no offer of its own, so only the
    // initiator can reconnect it.
    const [init, resp] = shouldInitiate('a', 'b') ? ['a', 'b'] : ['b', 'a'];
    // A slow link (1.5 s one way; a timeout that holds such a link): the leaving process's
    // last frames and its goodbye are still in flight when the relay tells the initiator
    // that it left and that its successor (same id) joined and asks for a connection. The
    // ask is ignored (the old connection still delivers frames), then the BYE arrives.
    const clock = new ManualClock();
    const net = createMemoryNetwork({ clock, latencyMs: 1500, mesh: { logger: silentLogger(), peerTimeoutMs: 8000 } });
    const first = net.join('r', { peerId: init });
    const old = net.join('r', { peerId: resp });
    await net.advance(10_000);
    expect([...first.peers.keys()]).toEqual([resp]);
    await old.leave();
    const again = net.join('r', { peerId: resp });
    await net.advance(20_000);
    expect([...again.peers.keys()]).toEqual([init]);
    expect([...first.peers.keys()]).toEqual([resp]);
    expect(net.openConnections()).toBe(1);
    await Promise.all([first, again].map((r) => r.leave()));
  });
});
