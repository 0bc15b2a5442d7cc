/**
 * A spectator's trouble with its own connections never gets a player dropped: only the
 * players' views count toward a drop. A spectator cut off from one player (both
 * directions, long enough for heartbeats to time out on both sides) announces nothing;
 * the players run on without a stall and keep that player. A player other than the
 * coordinator has its inputs forwarded to the spectator by another player (input-relay.ts):
 * the spectator keeps following, in agreement. So it does when cut from the coordinator,
 * whose joins and drops reach it through that player too (control-relay.ts). A spectator
 * that lies (any room member can send any control message) cannot get a player dropped either.
 */
import { describe, expect, it } from 'vitest';
import { LINK_GRACE_MS } from '../../src/lockstep/spectator-links.js';
import { Kind, encodeControl, generationOf } from '../../src/lockstep/wire.js';
import { type Walk, advanceUntil, connect, net, walk, expectAgreement } from './support/memory-sessions.js';

/** Far beyond any test's end: nothing on the link arrives, as if it were cut both ways. */
const CUT = { latencyMs: 1e9 };
const LINK = { latencyMs: 20 };

/** Players `players` and spectator w, started by the first player; resolves once w follows at frame 120. */
async function game(seed: number, players: string[]) {
  const n = net(seed);
  const logs: string[] = [];
  const rooms = await connect(n, [...players, 'w']);
  const ps = players.map((_, i) => walk(rooms[i]!, n, i, {}, logs));
  const w = walk(rooms[players.length]!, n, players.length, { spectator: true }, logs);
  const playerStalls: string[] = [];
  const playerLeft: string[] = [];
  for (const s of ps) {
    s.on('stall', (e) => playerStalls.push(`${s.selfId}@${e.frame} waiting on ${e.waitingOn.join(',')}`));
    s.on('player-left', (e) => playerLeft.push(`${s.selfId}: ${e.peer}`));
  }
  const rejoins: string[] = [];
  const started: number[] = [];
  w.on('rejoining', (e) => rejoins.push(e.reason.code));
  w.on('started', (e) => started.push(e.frame));
  await n.advance(200);
  ps[0]!.start({ seed, players, spectators: ['w'] });
  await advanceUntil(n, () => w.frame >= 120, 30_000);
  expect(w.frame).toBeGreaterThanOrEqual(120);
  /** Every player still plays in every player's view, none left but w, none stalled, and they kept pace since `t0` (frame `f0`). */
  const expectPlayersUnharmed = (t0: number, f0: number) => {
    for (const s of ps) expect({ peer: s.selfId, status: s.status, players: [...s.players].sort() }).toEqual({ peer: s.selfId, status: 'running', players: [...players].sort() });
    expect(playerLeft.filter((l) => !l.endsWith(': w'))).toEqual([]);
    expect(playerStalls).toEqual([]);
    const elapsedFrames = ((n.clock.now() - t0) / 1000) * 60;
    expect(ps[0]!.frame - f0).toBeGreaterThan(elapsedFrames - 10);
  };
  return { n, logs, rooms, ps, w, playerStalls, playerLeft, rejoins, started, expectPlayersUnharmed };
}

describe("a spectator whose connection to one player fails (that link only, both ways, heartbeats time out)", () => {
  // A player other than the coordinator: its inputs come forwarded, and the spectator never starts over.
  const forwardedCases = [
    { players: ['a', 'b', 'c'], cut: 'c', via: 'a', cutMs: 12_000, seed: 101, why: 'a player that is not the coordinator, for 12 s' },
    { players: ['a', 'b'], cut: 'b', via: 'a', cutMs: 30_000, seed: 103, why: 'one of two players, for 30 s' },
    // The coordinator: its joins and drops come through b as well (control-relay.ts). Back
    // before the grace period ends or not, w never starts over (it used to, both ways).
    { players: ['a', 'b', 'c'], cut: 'a', via: 'b', cutMs: 12_000, seed: 105, why: 'the coordinator, for 12 s' },
    { players: ['a', 'b', 'c'], cut: 'a', via: 'b', cutMs: 4_000, seed: 102, why: 'the coordinator, for 4 s' },
  ];
  for (const { players, cut, via, cutMs, seed, why } of forwardedCases) {
    it(`(${why}): the player is not dropped, the players never stall, and the spectator follows on with its inputs forwarded, in agreement`, async () => {
      const g = await game(seed, players);
      const { n, logs, rooms, ps, w, rejoins, started } = g;
      let lostAt = -1;
      rooms[players.length]!.on('peer-left', (e) => e.id === cut && lostAt < 0 && (lostAt = n.clock.now()));
      const [t0, f0] = [n.clock.now(), ps[0]!.frame];
      n.setLink(cut, 'w', CUT);
      await n.advance(cutMs);
      expect(lostAt).toBeGreaterThan(t0);
      // While cut, it kept up (once its connection timed out, 2.25 s, and it caught up through the forwarder).
      if (cutMs >= 10_000) expect(Math.abs(ps[0]!.frame - w.frame)).toBeLessThanOrEqual(ps[0]!.inputDelay + 3);
      n.setLink(cut, 'w', LINK);
      const target = ps[0]!.frame + 300;
      await advanceUntil(n, () => w.frame >= target, 30_000);
      g.expectPlayersUnharmed(t0, f0);
      // Nothing of w was refused (it sends no hash to the player that forgot it), and it never started over.
      expect(logs.filter((l) => /dropped a message from w/.test(l))).toEqual([]);
      expect({ rejoins, started: started.length, status: w.status }).toEqual({ rejoins: [], started: 1, status: 'running' });
      expect(logs.filter((l) => l.startsWith("w: taking "))).toEqual([`w: taking ${cut}'s inputs forwarded by ${via}`]);
      expect(expectAgreement([...ps, w], f0, target)).toBeGreaterThan(40);
      await n.advance(5_000);
      expect(Math.abs(ps[0]!.frame - w.frame)).toBeLessThanOrEqual(ps[0]!.inputDelay + 3);
      expect([...ps, w].map((s) => s.stats().desyncs)).toEqual([...ps, w].map(() => 0));
      for (const s of [...ps, w]) s.leave();
    });
  }

  it('a player that really vanishes meanwhile is dropped by the players, and the spectator follows that drop without starting over', async () => {
    // Guards the grace period: the players' verdict on a player that is really gone
    // reaches the spectator before it gives up on that player's inputs.
    const { n, ps, w, playerStalls, rejoins, started } = await game(104, ['a', 'b', 'c']);
    const [a, b] = ps as [Walk, Walk, Walk];
    const left: number[] = [];
    a.on('player-left', (e) => e.peer === 'c' && left.push(e.atFrame));
    w.on('player-left', (e) => e.peer === 'c' && left.push(e.atFrame));
    n.disconnect('c');
    await n.advance(LINK_GRACE_MS + 5_000);
    const target = a.frame + 120;
    await advanceUntil(n, () => w.frame >= target, 10_000);
    expect({ rejoins, started: started.length, players: [...w.players] }).toEqual({ rejoins: [], started: 1, players: ['a', 'b'] });
    expect(left.length).toBe(2);
    expect(left[0]).toBe(left[1]);
    expect(expectAgreement([a, b, w], 0, target)).toBeGreaterThan(50);
    // a and b waited only for c's inputs until its drop (c itself, cut off, stalled for good).
    expect(playerStalls.filter((s) => !s.startsWith('c@') && !/waiting on c$/.test(s))).toEqual([]);
    for (const s of [a, b, w]) s.leave();
  });
});

describe('a spectator whose inputs of a player nobody forwards any more', () => {
  // w lost b and took b's inputs forwarded by a (b stopped sending to it); its connection
  // to b opens again after LINK_GRACE_MS, when b's inputs still come forwarded, so w keeps
  // them so. Then w loses a: no player it reaches reaches b but b itself. Before, nothing
  // noticed: w froze for good, listed by the players (b reaches it).
  it('goes back to the lobby after LINK_GRACE_MS, is admitted again through the player it reaches, and follows', async () => {
    const { n, rooms, ps, w, rejoins, started } = await game(106, ['a', 'b']);
    const [a, b] = ps as [Walk, Walk];
    const wRoom = rooms[2]!;
    n.block('b', 'w');
    await n.advance(LINK_GRACE_MS + 2_000);
    n.unblock('b', 'w');
    await advanceUntil(n, () => wRoom.peers.has('b'), 30_000);
    await n.advance(1_000);
    expect({ rejoins, running: w.status, following: w.frame > a.frame - 10 }).toEqual({ rejoins: [], running: 'running', following: true });
    n.block('a', 'w');
    const cutAt = a.frame;
    await n.advance(LINK_GRACE_MS + 10_000);
    expect({ rejoins, started: started.length, status: w.status, spectators: [a.spectators, b.spectators, w.spectators] }).toEqual({
      rejoins: ['player-unreachable'], started: 2, status: 'running', spectators: [['w'], ['w'], ['w']],
    });
    expect(w.frame).toBeGreaterThan(a.frame - 10);
    expect(expectAgreement([a, b, w], cutAt + 400, w.frame - 5)).toBeGreaterThan(20);
    for (const s of [a, b, w]) s.leave();
  });
});

describe('a spectator that lies about a player', () => {
  const forgeries = [
    {
      what: 'a `leave` naming the player',
      seed: 111,
      send: (gen: number, at: number) => ({ to: ['a', 'b', 'c'], bytes: encodeControl({ kind: Kind.leave, gen, peer: 'c', since: 0 }), at }),
      logged: /^a: dropped a message from w: a leave of c from w, not a player/,
    },
    {
      what: 'a `report` on the player (with inputs of it no player has) to the coordinator',
      seed: 112,
      send: (gen: number, at: number) => ({
        to: ['a'],
        bytes: encodeControl({ kind: Kind.report, gen, leaver: 'c', since: 0, next: at + 600, base: at, inputs: Array.from({ length: 600 }, () => new Uint8Array([16])) }),
        at,
      }),
      logged: /^a: report on c from w, a spectator: it only gets the decision/,
    },
  ];
  for (const { what, seed, send, logged } of forgeries) {
    it(`${what}: the player is not dropped, nobody stalls, and the lie is logged`, async () => {
      const { n, logs, rooms, ps, w, playerStalls, playerLeft } = await game(seed, ['a', 'b', 'c']);
      // w is a member (a spectator in every player's view) and speaks on the session's own channel.
      const ctl = rooms[3]!.channel('lockstep:ctl', { reliability: 'reliable' });
      const forged = send(generationOf(seed, 'a'), ps[0]!.frame);
      for (const p of forged.to) await ctl.send(p, forged.bytes);
      await n.advance(5_000);
      for (const s of ps) expect({ peer: s.selfId, status: s.status, players: [...s.players] }).toEqual({ peer: s.selfId, status: 'running', players: ['a', 'b', 'c'] });
      expect(playerLeft).toEqual([]);
      expect(playerStalls).toEqual([]);
      expect(logs.some((l) => logged.test(l))).toBe(true);
      // The honest session behind w was not disturbed by its own forgery either.
      expect(Math.abs(ps[0]!.frame - w.frame)).toBeLessThanOrEqual(ps[0]!.inputDelay + 3);
      expect(expectAgreement([...ps, w], 0, Math.min(ps[0]!.frame, w.frame) - 10)).toBeGreaterThan(20);
      for (const s of [...ps, w]) s.leave();
    });
  }
});
