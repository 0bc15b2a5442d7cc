/**
 * A late joiner waits for the snapshot of the coordinator that admitted it. When that
 * snapshot cannot come, the joiner must go back to the lobby and be admitted again:
 * waiting would keep it joining for good and, once its join stands, keep every player
 * waiting for its inputs. The coordinator may leave the game while staying in the room
 * (no `peer-left` then), or the join may come from a peer that plays no game at all (any
 * peer of the room can send one).
 */
import { describe, expect, it } from 'vitest';
import { SNAPSHOT_DEADLINE_MS } from '../../src/lockstep/admission.js';
import { Kind, decodeControl, encodeControl } from '../../src/lockstep/wire.js';
import { type Walk, advanceUntil, connect, net, walk, expectAgreement } from './support/memory-sessions.js';
import { ByteReader, ByteWriter, ManualClock, createLockstepSession, createMemoryNetwork, defineGame, type Room } from '../../src/index.js';
import { fnv1a32 } from '../../src/lockstep/hash.js';
import { MemoryWire } from '../../src/transport/memory.js';
import { makeWalkGame, scriptedButtons } from './games.js';

describe('the coordinator leaves the game (not the room) while its joiner waits for the snapshot', () => {
  for (const [role, seed] of [['spectator', 202], ['player', 201]] as const) {
    it(`after its input for the join frame went out, so the join stands (a ${role} joiner): the joiner is admitted again by the next coordinator and nobody waits for good`, async () => {
      const n = net(seed);
      const logs: string[] = [];
      const rooms = await connect(n, ['a', 'b', 'c', 'x']);
      const [a, b, c] = [0, 1, 2].map((i) => walk(rooms[i]!, n, i, {}, logs)) as [Walk, Walk, Walk];
      await n.advance(200);
      a.start({ seed, players: ['a', 'b', 'c'] });
      await advanceUntil(n, () => b.frame >= 100, 10_000);
      let joinFrame = -1;
      rooms[3]!.channel('lockstep:ctl').on('message', ({ data }) => {
        const m = decodeControl(data);
        if (m.kind === Kind.join && m.peer === 'x' && joinFrame < 0) joinFrame = m.atFrame;
      });
      const x = walk(rooms[3]!, n, 3, { spectator: role === 'spectator' }, logs);
      const rejoins: string[] = [];
      const started: number[] = [];
      x.on('rejoining', (e) => rejoins.push(e.reason.code));
      x.on('started', (e) => started.push(e.frame));
      let dropOfA = -1;
      b.on('player-left', (e) => e.peer === 'a' && (dropOfA = e.atFrame));
      const stalls: string[] = [];
      for (const s of [b, c]) s.on('stall', (e) => stalls.push(`${s.selfId}@${e.frame} waiting on ${e.waitingOn.join(',')}`));
      await advanceUntil(n, () => joinFrame >= 0, 10_000, 1);
      // a has sampled (and sent) its input for the join frame: its delay is at least 2.
      await advanceUntil(n, () => a.frame >= joinFrame - 1, 10_000, 1);
      expect({ frame: a.frame, status: x.status }).toEqual({ frame: joinFrame - 1, status: 'joining' });
      a.leave();
      await advanceUntil(n, () => started.length >= 1, 20_000);
      const target = b.frame + 300;
      await advanceUntil(n, () => x.frame >= target && c.frame >= target, 20_000);

      // a's input for the join frame reached the others: its drop is past the join frame, so
      // the join stood, and only a could have sent that snapshot.
      expect(dropOfA).toBeGreaterThan(joinFrame);
      expect(rejoins).toEqual(['coordinator-left']);
      expect(logs.filter((l) => l.startsWith('x: back to the lobby: ')).map((l) => /a, who admitted us, left the game before our snapshot/.test(l))).toEqual([true]);
      expect({ status: x.status, started: started.length, players: [...x.players].sort() }).toEqual({ status: 'running', started: 1, players: role === 'player' ? ['b', 'c', 'x'] : ['b', 'c'] });
      expect(expectAgreement([b, c, x], started[0]!, target)).toBeGreaterThan(20);
      // b and c never waited: x left its admission before they needed its inputs.
      await n.advance(5_000);
      expect(Math.abs(b.frame - x.frame)).toBeLessThanOrEqual(b.inputDelay + 3);
      expect(stalls).toEqual([]);
      expect([b, c, x].map((s) => s.stats().desyncs)).toEqual([0, 0, 0]);
      for (const s of [b, c, x]) s.leave();
    });
  }
});

describe('a join from a peer that plays no game', () => {
  it('the joiner goes back to the lobby once the snapshot is overdue, and the real coordinator (whose join it refused meanwhile) admits it; one naming a far frame is refused harmlessly', async () => {
    const n = net(304);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b', 'x']);
    const [a, b] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs)];
    await n.advance(200);
    a.start({ seed: 304, players: ['a', 'b'] });
    await advanceUntil(n, () => a.frame >= 100, 10_000);
    const wRoom = n.join('game', { peerId: 'w' });
    for (let i = 0; i < 50 && wRoom.peers.size < 3; i++) await n.advance(50);
    const w = walk(wRoom, n, 3, { spectator: true }, logs);
    const rejoins: Array<{ code: string; at: number }> = [];
    const started: number[] = [];
    w.on('rejoining', (e) => rejoins.push({ code: e.reason.code, at: n.clock.now() }));
    w.on('started', (e) => started.push(e.frame));
    // x, a room peer with no session, names itself the coordinator of a game w should join.
    const forgedAt = n.clock.now();
    await rooms[2]!.channel('lockstep:ctl').send('w', encodeControl({ kind: Kind.join, gen: 9, peer: 'w', role: 'spectator', atFrame: 50, seed: 1, tickHz: 60, delay: 2, hashEvery: 10, members: [[0, 'x']] }));
    await advanceUntil(n, () => started.length >= 1, 40_000);
    const target = a.frame + 300;
    await advanceUntil(n, () => w.frame >= target, 20_000);

    // w took x's join, and refused a's (it was joining already); a counted that admission.
    expect(logs.some((l) => /^w: refusing admission at \d+ from a/.test(l))).toBe(true);
    expect(rejoins.map((r) => r.code)).toEqual(['no-snapshot']);
    expect(rejoins[0]!.at - forgedAt).toBeGreaterThanOrEqual(SNAPSHOT_DEADLINE_MS);
    // Its hello is past the refused admission, so a does not take it for a stale one.
    expect({ status: w.status, players: [...w.players] }).toEqual({ status: 'running', players: ['a', 'b'] });
    expect(expectAgreement([a, b, w], started[0]!, target)).toBeGreaterThan(20);
    expect(a.stats().stalls + b.stats().stalls).toBe(0);

    // A forged join naming a far frame is refused without pushing w's `after` out of reach:
    // cut off from both players later (so it starts over), w is admitted again.
    await rooms[2]!.channel('lockstep:ctl').send('w', encodeControl({ kind: Kind.join, gen: 9, peer: 'w', role: 'spectator', atFrame: 1e9, seed: 1, tickHz: 60, delay: 2, hashEvery: 10, members: [[0, 'x']] }));
    await n.advance(1000);
    expect(logs.some((l) => l.startsWith('w: refusing admission at 1000000000 from x'))).toBe(true);
    for (const p of ['a', 'b']) n.setLink(p, 'w', { latencyMs: 1e9 });
    await n.advance(12_000);
    for (const p of ['a', 'b']) n.setLink(p, 'w', { latencyMs: 20 });
    await advanceUntil(n, () => started.length >= 2, 40_000);
    const again = a.frame + 300;
    await advanceUntil(n, () => w.frame >= again, 20_000);
    expect(rejoins.map((r) => r.code)).toEqual(['no-snapshot', 'players-gone']);
    expect({ status: w.status, started: started.length }).toEqual({ status: 'running', started: 2 });
    expect(started[1]).toBeLessThan(again);
    expect(expectAgreement([a, b, w], started[1]!, again)).toBeGreaterThan(20);
    for (const s of [a, b, w]) s.leave();
  });
});

describe('a snapshot that takes longer than the deadline to arrive', () => {
  it('a 1.2 MB state over a 100 KB/s downlink (12 s): the joiner gives up once, waits twice as long the next time, and gets in', async () => {
    // The walk game with 1.2 MB of padding in its state (say, a big level).
    const walkGame = makeWalkGame();
    const pad = new Uint8Array(1_200_000);
    const big = defineGame({
      ...walkGame,
      name: 'big',
      hash: (s) => fnv1a32(walkGame.serialize(s)),
      serialize: (s) => new ByteWriter().bytes(walkGame.serialize(s)).raw(pad).finish(),
      deserialize: (b) => walkGame.deserialize(new ByteReader(b).bytes().slice()),
    });
    // Small transport buffers so heartbeats wait behind half a second of data at most.
    const n = createMemoryNetwork({ seed: 5, clock: new ManualClock(), latencyMs: 20, maxMessageSize: 16 * 1024, lowWaterMark: 16 * 1024, mesh: { highWaterMarkBytes: 32 * 1024 } });
    // x's downlink carries 100 bytes a millisecond: each reliable frame to x is sent after the ones before it.
    const send = MemoryWire.prototype.send;
    (n.wire as unknown as { send: typeof send }).send = function (this: MemoryWire, from, w, bytes) {
      if (from.remoteId === 'x' && (w.kind !== 'frame' || w.reliability === 'reliable')) from.out.lastAt = Math.max(from.out.lastAt, this.clock.now()) + bytes / 100;
      return send.call(this, from, w, bytes);
    };
    const rooms: Room[] = await connect(n, ['a', 'b', 'x']);
    const logs: string[] = [];
    const session = (room: Room, i: number, spectator = false) => {
      const s: Walk = createLockstepSession({ room, game: big, clock: n.clock, inputDelay: 'auto', spectator, log: (m) => logs.push(`${room.selfId}: ${m}`), input: () => scriptedButtons(s.frame, i) }) as unknown as Walk;
      return s;
    };
    const [a, b] = [session(rooms[0]!, 0), session(rooms[1]!, 1)];
    await n.advance(200);
    a.start({ seed: 3, players: ['a', 'b'] });
    await advanceUntil(n, () => a.frame >= 60, 10_000);
    const x = session(rooms[2]!, 2, true);
    const rejoins: string[] = [];
    const started: number[] = [];
    x.on('rejoining', (e) => rejoins.push(e.reason.code));
    x.on('started', (e) => started.push(e.frame));
    const t0 = n.clock.now();
    await advanceUntil(n, () => started.length > 0, 60_000, 500);
    // With the deadline fixed at 10 s it gave up every time, just before the state came.
    expect(rejoins).toEqual(['no-snapshot']);
    expect(logs.filter((l) => l.startsWith('x: back to the lobby')).map((l) => l.replace(/frame \d+/, 'frame F'))).toEqual([`x: back to the lobby: a, who admitted us at frame F, sent no snapshot within ${SNAPSHOT_DEADLINE_MS} ms`]);
    expect(started).toHaveLength(1);
    expect(n.clock.now() - t0).toBeLessThan(3 * SNAPSHOT_DEADLINE_MS);
    const target = a.frame + 120;
    await advanceUntil(n, () => x.frame >= target, 20_000);
    expect(expectAgreement([a, b, x], started[0]!, target)).toBeGreaterThan(5);
    for (const s of [a, b, x]) s.leave();
  }, 60_000);
});
