import { describe, expect, it } from 'vitest';
import {
  ManualClock, createLockstepSession, createMemoryNetwork, playReplay,
  type LockstepEvents, type LockstepSession, type MemoryNetwork, type Room,
} from '../../src/index.js';
import { generationOf, inputChannelName } from '../../src/lockstep/wire.js';
import { makeWalkGame, scriptedButtons, type WalkState } from './games.js';

type Walk = LockstepSession<WalkState, ReturnType<typeof scriptedButtons>>;
type MeshOptionsForTests = Parameters<typeof createMemoryNetwork>[0] extends infer O ? (O extends { mesh?: infer M } ? M : never) : never;

/** A seeded network on simulated time: 20 ms latency, 50 ms jitter, 5% loss on the unreliable channel. */
async function lossyNetwork(seed: number, mesh?: MeshOptionsForTests): Promise<{ clock: ManualClock; net: MemoryNetwork }> {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ seed, clock, latencyMs: 20, jitterMs: 50, loss: 0.05, mesh });
  return { clock, net };
}

async function connect(net: MemoryNetwork, ids: string[]): Promise<Room[]> {
  const rooms = ids.map((peerId) => net.join('game', { peerId }));
  for (let i = 0; i < 50 && rooms.some((r) => r.peers.size < ids.length - 1); i++) await net.advance(200);
  expect(rooms.map((r) => r.peers.size)).toEqual(ids.map(() => ids.length - 1));
  return rooms;
}

function walkSession(room: Room, clock: ManualClock, index: number, extra: Partial<Parameters<typeof createLockstepSession>[0]> = {}, game = makeWalkGame()): Walk {
  const s: Walk = createLockstepSession({ room, game, clock, inputDelay: 'auto', log: () => {}, input: () => scriptedButtons(s.frame, index), ...extra }) as Walk;
  return s;
}

/** Advance simulated time until every session reached `frame` (bounded). */
async function runUntil(net: MemoryNetwork, sessions: Walk[], frame: number, maxMs = 600_000): Promise<void> {
  const start = net.clock.now();
  while (sessions.some((s) => s.frame < frame) && net.clock.now() - start < maxMs) await net.advance(500);
  expect(sessions.map((s) => s.frame >= frame)).toEqual(sessions.map(() => true));
}

function collect<K extends keyof LockstepEvents>(sessions: Walk[], event: K): Array<Array<LockstepEvents[K]>> {
  return sessions.map((s) => {
    const list: Array<LockstepEvents[K]> = [];
    s.on(event, (e) => list.push(e));
    return list;
  });
}

describe('lockstep session on the in-memory network (simulated time, 5% loss, 50 ms jitter)', () => {
  it('8 players run 10,000 frames with identical hashes on every peer, and the replay reproduces them', async () => {
    const { clock, net } = await lossyNetwork(11);
    const ids = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'];
    const rooms = await connect(net, ids);
    const sessions = rooms.map((r, i) => walkSession(r, clock, i));
    const desyncs = collect(sessions, 'desync');
    const stalls = collect(sessions, 'stall');
    await net.advance(200);
    sessions[0]!.start({ seed: 1234 });
    await runUntil(net, sessions, 10_000);

    expect(sessions.map((s) => s.players.length)).toEqual(ids.map(() => 8));
    const recordings = sessions.map((s) => s.recording());
    const hashesUpTo = (r: (typeof recordings)[number]) => r.hashes.filter(([f]) => f <= 10_000);
    expect(hashesUpTo(recordings[0]!).length).toBe(1001); // frames 0, 10, ..., 10000
    for (const r of recordings.slice(1)) expect(hashesUpTo(r)).toEqual(hashesUpTo(recordings[0]!));
    expect(desyncs.flat()).toEqual([]);
    // Loss and jitter did make peers wait sometimes; they never diverged.
    expect(sessions.every((s) => s.stats().inputPacketsSent > 10_000 * 7 * 0.9)).toBe(true);
    expect(stalls.flat().every((e) => e.waitingOn.length > 0)).toBe(true);

    const replay = playReplay(makeWalkGame(), recordings[3]!);
    expect(replay.mismatches).toEqual([]);
    expect(replay.checked).toBe(recordings[3]!.hashes.length);
    for (const s of sessions) s.leave();
  }, 240_000);

  it('a non-deterministic game raises desync at the first hashed frame after it diverges, with every peer hash and a state dump', async () => {
    const { clock, net } = await lossyNetwork(12);
    const ids = ['a', 'b', 'c', 'd'];
    const rooms = await connect(net, ids);
    // Each peer's copy of the game adds its own salt at frame 437 (peer a adds 0, so a and ... differ).
    const sessions = rooms.map((r, i) => walkSession(r, clock, i, { hashEvery: 10 }, makeWalkGame({ divergeAt: 437, salt: i })));
    const desyncs = collect(sessions, 'desync');
    // Ask for every peer's state as soon as b sees the desync (states are kept for recent hashed frames).
    let dumping: Promise<Record<string, Uint8Array | undefined>> | undefined;
    sessions[1]!.on('desync', (d) => (dumping ??= d.dump()));
    await net.advance(200);
    sessions[0]!.start({ seed: 99 });
    await runUntil(net, sessions, 600);

    for (const list of desyncs) {
      expect(list.length).toBeGreaterThan(0);
      const first = list[0]!;
      expect(first.frame).toBe(440); // state 438 is the first that differs; 440 is the next hashed frame
      expect(Object.keys(first.hashes).sort()).toEqual(ids);
      expect(new Set(Object.values(first.hashes)).size).toBe(4);
    }
    // Before the divergence every hashed frame matched.
    expect(sessions.map((s) => s.hashAt(430))).toEqual(sessions.map(() => sessions[0]!.hashAt(430)));
    await net.advance(1000);
    const dump = await dumping!;
    expect(Object.keys(dump).sort()).toEqual(ids);
    const game = makeWalkGame();
    const frames = ids.map((id) => game.deserialize(dump[id]!).frames);
    expect(new Set(frames).size).toBe(4);
    for (const s of sessions) s.leave();
  });

  it('a late joiner, a spectator, a vanished player and a leaving player: every remaining peer stays in agreement', async () => {
    const { clock, net } = await lossyNetwork(13);
    const rooms = await connect(net, ['a', 'b', 'c', 'd', 'w']);
    const sessions = rooms.map((r, i) => walkSession(r, clock, i, i === 4 ? { spectator: true } : {}));
    const [a, b, c, d, watcher] = sessions as [Walk, Walk, Walk, Walk, Walk];
    await net.advance(200);
    b.start({ seed: 7 });
    await runUntil(net, sessions, 300);
    expect([...a.players].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(watcher.role).toBe('spectator');

    // A fifth player arrives mid-game.
    const eRoom = net.join('game', { peerId: 'e' });
    const e = walkSession(eRoom, clock, 5);
    const all = [a, b, c, d, watcher, e];
    const joined = collect(all, 'player-joined');
    const left = collect(all, 'player-left');
    const desyncs = collect(all, 'desync');
    await runUntil(net, [e], 400);
    expect(e.status).toBe('running');
    const joinFrames = joined.slice(0, 5).map((l) => l.find((x) => x.peer === 'e')?.atFrame);
    expect(new Set(joinFrames).size).toBe(1);
    expect(joinFrames[0]).toBeGreaterThan(300);
    expect(e.players).toContain('e');

    // A spectator arrives too: it watches from an agreed frame, sends no inputs.
    const fRoom = net.join('game', { peerId: 'f' });
    const f = walkSession(fRoom, clock, 6, { spectator: true });
    await runUntil(net, [f], 520);
    expect(f.role).toBe('spectator');
    expect(f.players).toEqual(a.players);
    expect(a.spectators).toEqual(['w', 'f']);
    expect(f.stats().inputBytesSent).toBeLessThan(e.stats().inputBytesSent);

    // c vanishes (like a killed tab); d leaves politely.
    net.disconnect('c');
    d.leave();
    await rooms[3]!.leave();
    const rest = [a, b, watcher, e, f];
    const target = Math.max(...rest.map((s) => s.frame)) + 600;
    await runUntil(net, rest, target);

    for (const s of rest) expect(s.players).toEqual(a.players);
    expect([...a.players].sort()).toEqual(['a', 'b', 'e']);
    for (const who of ['c', 'd']) {
      const at = [0, 1, 4, 5].map((i) => left[i]!.find((x) => x.peer === who)?.atFrame);
      expect(at.every((f) => typeof f === 'number')).toBe(true);
      expect(new Set(at).size).toBe(1);
    }
    // Equal hashes at every hashed frame the remaining peers have in common, after the joiner's start.
    const recs = rest.map((s) => new Map(s.recording().hashes));
    let compared = 0;
    for (const [frame, h] of recs[4]!) {
      if (frame > target) break;
      for (const r of recs) expect([frame, r.get(frame)]).toEqual([frame, h]);
      compared++;
    }
    expect(compared).toBeGreaterThan(60);
    expect(desyncs.flat()).toEqual([]);
    // The joiner's recording starts from its snapshot and replays to the same hashes.
    expect(playReplay(makeWalkGame(), e.recording()).mismatches).toEqual([]);
    for (const s of rest) s.leave();
  });

  it('the coordinator vanishes, then the next one too, while the drop is being agreed: the last two keep agreeing', async () => {
    const { clock, net } = await lossyNetwork(15);
    const rooms = await connect(net, ['a', 'b', 'c', 'd']);
    const sessions = rooms.map((r, i) => walkSession(r, clock, i));
    const [, , c, d] = sessions as [Walk, Walk, Walk, Walk];
    const left = collect(sessions, 'player-left');
    const desyncs = collect(sessions, 'desync');
    await net.advance(200);
    // c starts, with an explicit order; a (lowest id) is the coordinator.
    c.start({ seed: 3, players: ['c', 'a', 'd', 'b'] });
    await runUntil(net, sessions, 300);
    net.disconnect('a');
    await net.advance(40);
    net.disconnect('b');
    const target = Math.max(c.frame, d.frame) + 900;
    await runUntil(net, [c, d], target);
    expect(c.players).toEqual(['c', 'd']);
    expect(d.players).toEqual(['c', 'd']);
    for (const who of ['a', 'b']) {
      const at = [2, 3].map((i) => left[i]!.find((x) => x.peer === who)?.atFrame);
      expect(typeof at[0]).toBe('number');
      expect(at[1]).toBe(at[0]);
    }
    const hc = new Map(c.recording().hashes);
    const hd = new Map(d.recording().hashes);
    for (let f = 0; f <= target; f += 10) expect([f, hc.get(f)]).toEqual([f, hd.get(f)]);
    expect(desyncs.flat()).toEqual([]);
    expect(playReplay(makeWalkGame(), d.recording()).mismatches).toEqual([]);
    c.leave();
    d.leave();
  });

  it('a joiner whose coordinator vanishes before the snapshot is dropped, asks again and is admitted by the next coordinator', async () => {
    const { clock, net } = await lossyNetwork(17);
    const rooms = await connect(net, ['a', 'b', 'c']);
    const sessions = rooms.map((r, i) => walkSession(r, clock, i));
    const [, b, c] = sessions as [Walk, Walk, Walk];
    await net.advance(200);
    b.start({ seed: 21 });
    await runUntil(net, sessions, 200);
    const eRoom = net.join('game', { peerId: 'e' });
    const e = walkSession(eRoom, clock, 4);
    const statuses: string[] = [];
    for (let i = 0; i < 2000 && e.status !== 'joining'; i++) await net.advance(5);
    expect(e.status).toBe('joining');
    net.disconnect('a'); // the coordinator, before it reaches the join frame
    for (let i = 0; i < 600 && e.status !== 'running'; i++) {
      await net.advance(50);
      if (statuses.at(-1) !== e.status) statuses.push(e.status);
    }
    expect(statuses).toContain('lobby'); // it went back and asked again
    expect(e.status).toBe('running');
    const target = Math.max(b.frame, c.frame, e.frame) + 300;
    await runUntil(net, [b, c, e], target);
    expect([...b.players].sort()).toEqual(['b', 'c', 'e']);
    for (const s of [c, e]) expect(s.players).toEqual(b.players);
    const recs = [b, c, e].map((s) => new Map(s.recording().hashes));
    let compared = 0;
    for (const [frame, h] of recs[2]!) {
      if (frame > target) break;
      for (const r of recs) expect([frame, r.get(frame)]).toEqual([frame, h]);
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
    for (const s of [b, c, e]) s.leave();
  });

  it('a starter that is not among the players watches (and still sees every frame)', async () => {
    const { clock, net } = await lossyNetwork(16);
    const rooms = await connect(net, ['a', 'b', 'c']);
    const sessions = rooms.map((r, i) => walkSession(r, clock, i));
    await net.advance(200);
    sessions[0]!.start({ seed: 8, players: ['b', 'c'] });
    await runUntil(net, sessions, 300);
    expect(sessions[0]!.role).toBe('spectator');
    expect(sessions[1]!.spectators).toEqual(['a']);
    expect(sessions.map((s) => s.hashAt(300))).toEqual(sessions.map(() => sessions[1]!.hashAt(300)));
    for (const s of sessions) s.leave();
  });

  it('drops malformed packets with a logged reason, cuts off a repeat offender and keeps running', async () => {
    // No mesh strike limit: the session's own (100 bad messages) is what this tests; the
    // mesh would cut x off at its maxStrikes (lockstep-strikes.test).
    const { clock, net } = await lossyNetwork(14, { maxStrikes: Infinity });
    const rooms = await connect(net, ['a', 'b', 'x']);
    const logs: string[] = [];
    const a = walkSession(rooms[0]!, clock, 0, { log: (m) => logs.push(m) });
    const b = walkSession(rooms[1]!, clock, 1);
    await net.advance(200);
    a.start({ seed: 1, players: ['a', 'b'] });
    await runUntil(net, [a, b], 100);
    const ctl = rooms[2]!.channel('lockstep:ctl', { reliability: 'reliable' });
    // The session's input channel (named after its generation); x is no member, so only validation meets it.
    const inp = rooms[2]!.channel(inputChannelName('lockstep', generationOf(1, 'a')), { reliability: 'unreliable' });
    for (let i = 0; i < 120; i++) {
      await ctl.send('a', new Uint8Array([99, i]));
      await inp.send('a', new Uint8Array([0, 0x1f])); // an escaped ack without its varint
    }
    await runUntil(net, [a, b], 400);
    expect(logs.some((l) => /dropped a message from x: .*unknown lockstep message kind 99/.test(l))).toBe(true);
    expect(logs.some((l) => /dropped a message from x: .*truncated/.test(l))).toBe(true);
    expect(logs.filter((l) => /ignoring this peer/.test(l)).length).toBe(1);
    expect(logs.filter((l) => /from x/.test(l)).length).toBe(100);
    expect(a.hashAt(400)).toBe(b.hashAt(400));
    a.leave();
    b.leave();
  });
});
