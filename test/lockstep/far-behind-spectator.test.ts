/**
 * A spectator that acknowledged nothing for more than MAX_RESEND_BACKLOG frames (its
 * input packets lost for over a minute, or its tab suspended): the players stop sending it
 * inputs (memory stays bounded) and tell it so; it goes back to the lobby, is admitted
 * again with a fresh snapshot, agrees with the players and follows them. The players never
 * wait for it. The same when its connections to every player closed meanwhile, and
 * admissions of one peer are rate-limited so that recovering costs the others little.
 */
import { describe, expect, it } from 'vitest';
import type { Clock, MeshpartyError } from '../../src/index.js';
import { MAX_RESEND_BACKLOG } from '../../src/lockstep/input-exchange.js';
import { Kind, decodeControl, encodeControl } from '../../src/lockstep/wire.js';
import type { TimerHandle } from '../../src/util/clock.js';
import { type Walk, advanceUntil, connect, net, playing, walk, expectAgreement } from './support/memory-sessions.js';

/** Longer than MAX_RESEND_BACKLOG frames at 60 Hz plus the 256 frames between prunes: 70 s. */
const STALL_MS = 70_000;

/**
 * A session clock that can be frozen like a suspended tab: time goes on, timers wait until
 * `thaw()`. A suspended tab handles no message either, and a session ticks on a packet
 * whose tick is overdue (Ticker.packetArrived, for hidden tabs), so tests that freeze a
 * spectator also lose the input packets sent to it meanwhile (`silence`).
 */
function freezableClock(base: Clock) {
  let frozen = false;
  const held = new Map<object, () => void>();
  const inner = new Map<object, TimerHandle>();
  const clock: Clock & { freeze(): void; thaw(): void } = {
    now: () => base.now(),
    setTimeout(fn, ms) {
      const h = {};
      inner.set(
        h,
        base.setTimeout(() => {
          inner.delete(h);
          if (frozen) held.set(h, fn);
          else fn();
        }, ms),
      );
      return h;
    },
    clearTimeout(h) {
      held.delete(h as object);
      const t = inner.get(h as object);
      if (t !== undefined) base.clearTimeout(t);
      inner.delete(h as object);
    },
    freeze: () => void (frozen = true),
    thaw() {
      frozen = false;
      for (const [h, fn] of [...held]) {
        held.delete(h);
        inner.set(h, base.setTimeout(() => (inner.delete(h), fn()), 0));
      }
    },
  };
  return clock;
}

/** Lose (or stop losing) every unreliable packet between `players` and `to` (20 ms links). */
function silence(n: ReturnType<typeof net>, players: string[], to: string, on: boolean): void {
  for (const p of players) n.setLink(p, to, { loss: on ? 1 : 0, latencyMs: 20 });
}

type Stall = 'packets-lost' | 'clock-frozen' | 'partitioned';

/**
 * Players a, b and spectator w; w is stalled for STALL_MS (`how`), then released. `slowLink`
 * makes the w–b link slow (both channels), so w's leave reaches b after a's join for w.
 */
async function stallSpectator(seed: number, how: Stall, slowLink = false) {
  const n = net(seed);
  const logs: string[] = [];
  const rooms = await connect(n, ['a', 'b', 'w']);
  const [a, b] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs)];
  const clock = freezableClock(n.clock);
  const w = walk(rooms[2]!, n, 2, { spectator: true, clock }, logs);
  const rejoins: MeshpartyError[] = [];
  const started: number[] = [];
  w.on('rejoining', (e) => rejoins.push(e.reason));
  w.on('started', (e) => started.push(e.frame));
  const playerStalls: number[] = [];
  for (const s of [a, b]) s.on('stall', (e) => playerStalls.push(e.frame));
  await n.advance(200);
  a.start({ seed });
  await advanceUntil(n, () => w.frame >= 120, 30_000);
  if (slowLink) n.setLink('b', 'w', { latencyMs: 300 });
  const [t0, f0] = [n.clock.now(), a.frame];
  if (how === 'packets-lost') for (const p of ['a', 'b']) n.setLink(p, 'w', { loss: 1, latencyMs: slowLink && p === 'b' ? 300 : 20 });
  else if (how === 'clock-frozen') {
    clock.freeze();
    silence(n, ['a', 'b'], 'w', true);
  } else n.partition([['w'], ['a', 'b']]);
  await n.advance(STALL_MS);
  if (how === 'packets-lost') for (const p of ['a', 'b']) n.setLink(p, 'w', { loss: 0, latencyMs: slowLink && p === 'b' ? 300 : 20 });
  else if (how === 'clock-frozen') {
    clock.thaw();
    silence(n, ['a', 'b'], 'w', false);
  }
  else n.heal();
  // The players ran at full speed all along: w (stalled, then rejoining) never held them up.
  const elapsedFrames = ((n.clock.now() - t0) / 1000) * 60;
  expect(a.frame - f0).toBeGreaterThan(elapsedFrames - 10);
  expect(elapsedFrames).toBeGreaterThan(MAX_RESEND_BACKLOG + 256);
  // Admitted again (connections may have to open again first), then 300 frames more.
  await advanceUntil(n, () => started.length >= 2, 30_000);
  const target = a.frame + 300;
  await advanceUntil(n, () => w.frame >= target, 30_000);
  return { n, a, b, w, logs, rejoins, started, playerStalls, target };
}

describe('a spectator stalled for longer than MAX_RESEND_BACKLOG frames', () => {
  for (const [how, seed] of [['packets-lost', 71], ['clock-frozen', 72]] as const) {
    it(`${how} for 70 s: cut off and told so, it is admitted again with a snapshot, then agrees and follows; the players never wait for it`, async () => {
      const { n, a, b, w, logs, rejoins, started, playerStalls, target } = await stallSpectator(seed, how);
      expect(logs.filter((l) => /no longer sending inputs to w/.test(l)).length).toBeGreaterThan(0);
      // Told clearly, once (the second player's notice names the admission it already left).
      expect(rejoins.map((e) => e.code)).toEqual(['fell-behind']);
      expect(rejoins[0]!.message).toMatch(/stopped sending us its inputs/);
      // The players' hashes, far ahead of its frame, are no fault of theirs: w never ignores them.
      expect(logs.filter((l) => /^w: dropped a message/.test(l))).toEqual([]);
      expect({ status: w.status, started: started.length, players: [...w.players], reached: w.frame >= target }).toEqual({ status: 'running', started: 2, players: ['a', 'b'], reached: true });
      expect(started[1]).toBeGreaterThan(MAX_RESEND_BACKLOG);
      expect(expectAgreement([a, b, w], started[1]!, target)).toBeGreaterThan(30);
      // And it keeps following: 10 s later it is level with the players and still agrees.
      await n.advance(10_000);
      expect(Math.abs(a.frame - w.frame)).toBeLessThanOrEqual(a.inputDelay + 3);
      expect(expectAgreement([a, b, w], target, Math.min(a.frame, w.frame) - 10)).toBeGreaterThan(50);
      expect(playerStalls).toEqual([]);
      expect({ a: a.stats().desyncs, b: b.stats().desyncs, w: w.stats().desyncs }).toEqual({ a: 0, b: 0, w: 0 });
      for (const s of [a, b, w]) s.leave();
    });
  }

  it('partitioned from every player for 70 s (connections closed, as when heartbeats time out): it goes back to the lobby, is admitted again once reconnected, agrees and follows', async () => {
    const { n, a, b, w, logs, rejoins, started, playerStalls, target } = await stallSpectator(75, 'partitioned');
    // The players dropped it as a departed spectator; with every player gone from its view
    // nobody could decide a drop for it or send it inputs, so it says so and starts over.
    expect(rejoins.map((e) => e.code)).toEqual(['players-gone']);
    expect(logs.filter((l) => /^w: dropped a message/.test(l))).toEqual([]);
    expect({ status: w.status, started: started.length, players: [...w.players], reached: w.frame >= target }).toEqual({ status: 'running', started: 2, players: ['a', 'b'], reached: true });
    expect(expectAgreement([a, b, w], started[1]!, target)).toBeGreaterThan(30);
    await n.advance(10_000);
    expect(Math.abs(a.frame - w.frame)).toBeLessThanOrEqual(a.inputDelay + 3);
    expect(playerStalls).toEqual([]);
    for (const s of [a, b, w]) s.leave();
  });

  it("its leave reaches one player after the coordinator's join for it: that player applies the join then, and nobody stalls", async () => {
    // b hears of w's new admission (from a) before w's own leave (300 ms on the w–b link):
    // it holds the join behind w's old admission and must apply it once the leave arrives,
    // or it never acknowledges it and a, the coordinator, holds its inputs back for good.
    const { n, a, b, w, rejoins, started, playerStalls, target } = await stallSpectator(73, 'packets-lost', true);
    expect(rejoins.map((e) => e.code)).toEqual(['fell-behind']);
    expect({ status: w.status, started: started.length, reached: w.frame >= target }).toEqual({ status: 'running', started: 2, reached: true });
    expect(expectAgreement([a, b, w], started[1]!, target)).toBeGreaterThan(30);
    await n.advance(5_000);
    expect(playerStalls).toEqual([]);
    for (const s of [a, b, w]) s.leave();
  });
});

describe('admissions of one peer are rate-limited', () => {
  it('a room member that leaves and says hello again on every join it gets is admitted at most once per 5 s', async () => {
    const n = net(74);
    const rooms = await connect(n, ['a', 'b', 'x']);
    const [a, b] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
    await n.advance(200);
    a.start({ seed: 74, players: ['a', 'b'] });
    await advanceUntil(n, () => a.frame >= 100, 10_000);
    // x speaks the protocol by hand: hello as a spectator; on each join, leave it and say hello again.
    const ctl = rooms[2]!.channel('lockstep:ctl', { reliability: 'reliable' });
    const joins: number[] = [];
    const hello = (after: number) => encodeControl({ kind: Kind.hello, role: 'spectator', started: false, connected: ['a', 'b'], after });
    ctl.on('message', ({ data }) => {
      const m = decodeControl(data);
      if (m.kind !== Kind.join || m.peer !== 'x') return;
      joins.push(m.atFrame);
      for (const p of ['a', 'b']) void ctl.send(p, encodeControl({ kind: Kind.leave, gen: m.gen, peer: 'x', since: m.atFrame }));
      for (const p of ['a', 'b']) void ctl.send(p, hello(m.atFrame + 1));
    });
    for (const p of ['a', 'b']) void ctl.send(p, hello(0));
    await n.advance(20_000);
    // Without a limit: one admission (a join to every member, a snapshot) per round trip.
    expect(joins.length).toBeGreaterThanOrEqual(2);
    expect(joins.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < joins.length; i++) expect(joins[i]! - joins[i - 1]!).toBeGreaterThanOrEqual(5 * 60);
    expect({ a: a.status, b: b.status, stalls: a.stats().stalls + b.stats().stalls }).toEqual({ a: 'running', b: 'running', stalls: 0 });
    for (const s of [a, b]) s.leave();
  });
});

describe('a spectator whose forwarder no longer holds the inputs it lacks', () => {
  it('is cut off by that forwarder, and its rejoining reason names the forwarder and the player, not a player it follows directly', async () => {
    const seed = 76;
    const n = net(seed);
    const logs: string[] = [];
    const { players: [a, b, c] } = await playing(n, seed, ['a', 'b', 'c'], logs);
    // w reaches a and b, not c: c's inputs come forwarded by a (the lowest-id player reaching c).
    n.block('c', 'w');
    const clock = freezableClock(n.clock);
    const w = walk(n.join('game', { peerId: 'w' }), n, 3, { spectator: true, clock }, logs);
    const rejoins: MeshpartyError[] = [];
    w.on('rejoining', (e) => rejoins.push(e.reason));
    await advanceUntil(n, () => w.status === 'running' && w.frame >= a.frame - 30, 15_000);
    expect(logs.filter((l) => /^w: taking c's inputs forwarded by a/.test(l)).length).toBe(1);
    // w's tab is suspended; meanwhile a leaves, so b is w's forwarder for c from now on. b
    // never forwarded to w and keeps c's inputs only some RELAY_KEEP_FRAMES back (more
    // between its prunes, every 256 frames): 20 s on, w asks it for frames it forgot. w's
    // own acknowledgements of b's inputs are far less than MAX_RESEND_BACKLOG behind: b
    // itself still sends w its inputs.
    clock.freeze();
    silence(n, ['a', 'b'], 'w', true);
    a.leave();
    await n.advance(20_000);
    clock.thaw();
    silence(n, ['a', 'b'], 'w', false);
    await advanceUntil(n, () => rejoins.length > 0, 5000);
    expect(logs.filter((l) => /^b: no longer forwarding to w/.test(l)).length).toBe(1);
    expect(rejoins.map((e) => [e.code, e.detail?.by, e.detail?.player])).toEqual([['fell-behind', 'b', 'c']]);
    expect(rejoins[0]!.message).toMatch(/^b, which forwards us c's inputs, stopped forwarding: it no longer holds them from frame \d+, the first we lack/);
    // Admitted again with a snapshot, it follows b and c.
    await advanceUntil(n, () => w.status === 'running' && w.frame >= b.frame - 30, 15_000);
    const target = b.frame + 200;
    await advanceUntil(n, () => w.frame >= target, 10_000);
    expect(expectAgreement([b, c, w], target - 200, target)).toBeGreaterThan(15);
    for (const s of [b, c, w]) s.leave();
  });
});
