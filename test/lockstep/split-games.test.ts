/**
 * A game split in two by a network outage (each side dropped the other) is one game again
 * once the connections open: the smaller half goes back to the lobby (`rejoining`, code
 * `split`) and is admitted into the larger. Before, both halves ran on for good, in the same
 * room and connected: in the demo, a friend whose tab had been stopped for 30 s rode alone
 * on an arena of its own while the others saw its rider gone. On the in-memory network.
 */
import { describe, expect, it } from 'vitest';
import { decodeControl, encodeControl, Kind } from '../../src/lockstep/wire.js';
import { outranks } from '../../src/lockstep/split-games.js';
import { advanceUntil, connect, expectAgreement, net, walk, type Walk } from './support/memory-sessions.js';
import type { Clock, ManualClock, MemoryNetwork } from '../../src/index.js';

/** `inner`'s time, with every timer held while frozen and run at the thaw: a tab stopped by the browser. */
function freezable(inner: ManualClock): { clock: Clock; freeze(): void; thaw(): void } {
  let frozen = false;
  const held: Array<() => void> = [];
  return {
    clock: { now: () => inner.now(), setTimeout: (fn, ms) => inner.setTimeout(() => (frozen ? held.push(fn) : fn()), ms), clearTimeout: (h) => inner.clearTimeout(h) },
    freeze: () => (frozen = true),
    thaw: () => {
      frozen = false;
      for (const fn of held.splice(0)) fn();
    },
  };
}

/** Each session's `rejoining` codes and `stopped` reasons, as `id code`. */
function watch(sessions: Walk[]): string[] {
  const events: string[] = [];
  for (const s of sessions) {
    s.on('rejoining', ({ reason }) => events.push(`${s.selfId} rejoining ${reason.code}`));
    s.on('stopped', ({ reason }) => events.push(`${s.selfId} stopped ${reason}`));
  }
  return events;
}

/** `who`'s links to every other id are cut for `ms`, then open again. */
async function outage(n: MemoryNetwork, who: string, ids: readonly string[], ms: number): Promise<void> {
  for (const o of ids) if (o !== who) n.block(who, o);
  await n.advance(ms);
  for (const o of ids) if (o !== who) n.unblock(who, o);
}

describe('a game split by a network outage', () => {
  it('the host cut off from the two others for 30 s plays alone meanwhile, then rejoins their game (code split) and all three agree', async () => {
    const n = net(81);
    const ids = ['a', 'b', 'c'];
    const rooms = await connect(n, ids);
    const sessions = rooms.map((r, i) => walk(r, n, i));
    const [a, b, c] = sessions as [Walk, Walk, Walk];
    const events = watch(sessions);
    await n.advance(500);
    a.start({ seed: 1 });
    await n.advance(2000);
    await outage(n, 'a', ids, 30_000);
    // Meanwhile each side dropped the other: a, the host, alone; b and c together.
    expect([...a.players]).toEqual(['a']);
    expect([...b.players].sort()).toEqual(['b', 'c']);
    // The mesh connects them again within some 15 s (its backoff), then 5 s to be admitted.
    await advanceUntil(n, () => sessions.every((s) => s.status === 'running' && s.players.length === 3), 60_000);
    await n.advance(5000);
    // a's half is the smaller: it gave way; b and c never left their game.
    expect(events).toEqual(['a rejoining split']);
    expect(rooms[0]!.peers.size).toBe(2);
    for (const s of sessions) expect([s.status, [...s.players].sort()]).toEqual(['running', ['a', 'b', 'c']]);
    const to = Math.min(a.frame, b.frame, c.frame);
    expect(expectAgreement(sessions, to - 200, to)).toBeGreaterThan(15);
    for (const s of sessions) s.leave();
  }, 60_000);

  it('two friends cut off from each other: the one with the higher id gives way, and they play one game again', async () => {
    const n = net(82);
    const ids = ['a', 'b'];
    const rooms = await connect(n, ids);
    const sessions = rooms.map((r, i) => walk(r, n, i));
    const [a, b] = sessions as [Walk, Walk];
    const events = watch(sessions);
    await n.advance(500);
    b.start({ seed: 2 });
    await n.advance(2000);
    await outage(n, 'b', ids, 30_000);
    expect([[...a.players], [...b.players]]).toEqual([['a'], ['b']]);
    await advanceUntil(n, () => sessions.every((s) => s.status === 'running' && s.players.length === 2), 60_000);
    await n.advance(5000);
    expect(events).toEqual(['b rejoining split']);
    for (const s of sessions) expect([s.status, [...s.players].sort()]).toEqual(['running', ['a', 'b']]);
    const to = Math.min(a.frame, b.frame);
    expect(expectAgreement(sessions, to - 200, to)).toBeGreaterThan(15);
    for (const s of sessions) s.leave();
  }, 60_000);

  it('a friend whose tab was stopped 30 s wins at equal size (lower id): the other, 1800 frames ahead, is admitted at once, not that far on', async () => {
    const n = net(84);
    const rooms = await connect(n, ['a', 'b']);
    const tab = freezable(n.clock as ManualClock);
    const [a, b] = [walk(rooms[0]!, n, 0, { clock: tab.clock }), walk(rooms[1]!, n, 1)];
    const times: Record<string, number> = {};
    b.on('rejoining', ({ reason }) => (times[reason.code] = n.clock.now()));
    b.on('started', () => (times.started = n.clock.now()));
    await n.advance(500);
    b.start({ seed: 2 });
    await n.advance(2000);
    tab.freeze();
    n.block('a', 'b');
    await n.advance(30_000);
    n.unblock('a', 'b');
    tab.thaw();
    await advanceUntil(n, () => times.split !== undefined, 60_000);
    await n.advance(3000);
    // b gave way (a has the lower id) and was admitted within a second; with its own frames
    // as the floor of its next admission, the join waited for a to reach them (35 s, a
    // snapshot deadline missed on the way).
    expect(times.started! - times.split!).toBeLessThan(1000);
    for (const s of [a, b]) expect([s.status, [...s.players].sort()]).toEqual(['running', ['a', 'b']]);
    const to = Math.min(a.frame, b.frame);
    expect(expectAgreement([a, b], to - 100, to)).toBeGreaterThan(5);
    for (const s of [a, b]) s.leave();
  }, 60_000);

  it('a hello claiming a larger game from a peer that was never in ours changes nothing', async () => {
    const n = net(83);
    const rooms = await connect(n, ['a', 'x', 'y', 'z']);
    const a = walk(rooms[0]!, n, 0);
    const events = watch([a]);
    await n.advance(500);
    a.start({ seed: 3, players: ['a'] });
    await n.advance(1000);
    // x runs no session: it says it plays in a game of three (itself and two real room peers).
    const hello = encodeControl({ kind: Kind.hello, role: 'player', started: true, connected: ['a', 'y', 'z'], after: 0, players: ['x', 'y', 'z'] });
    await rooms[1]!.channel('lockstep:ctl').send('a', hello);
    await n.advance(2000);
    expect(events).toEqual([]);
    expect([a.status, [...a.players]]).toEqual(['running', ['a']]);
    a.leave();
  });

  it('a player we dropped claiming a larger game of ids that are not peers of the room changes nothing', async () => {
    const n = net(85);
    const rooms = await connect(n, ['a', 'x']);
    const [a, x] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
    const events = watch([a]);
    await n.advance(500);
    a.start({ seed: 4 });
    await n.advance(2000);
    x.leave(); // (its goodbye is lost in the outage: a drops it as cut off)
    await outage(n, 'x', ['a', 'x'], 30_000);
    expect([...a.players]).toEqual(['a']);
    await advanceUntil(n, () => rooms[0]!.peers.has('x') && rooms[1]!.peers.has('a'), 60_000);
    // x, whose admission a dropped, says it plays on in a game of three with made-up ids:
    // it would send a (and every member of a larger game, the host too) back to the lobby.
    const hello = encodeControl({ kind: Kind.hello, role: 'player', started: true, connected: ['a'], after: 0, players: ['x', 'ghost-1', 'ghost-2'] });
    await rooms[1]!.channel('lockstep:ctl').send('a', hello);
    await n.advance(2000);
    expect(events).toEqual([]);
    expect([a.status, [...a.players]]).toEqual(['running', ['a']]);
    a.leave();
  }, 60_000);

  it('the larger half answers a hello of the smaller once per connection: again once that peer connects anew', async () => {
    const n = net(86);
    const rooms = await connect(n, ['a', 'x']);
    const [a, x] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
    await n.advance(500);
    a.start({ seed: 5 });
    await n.advance(2000);
    x.leave(); // (its goodbye is lost in the outage: a drops it as cut off)
    await outage(n, 'x', ['a', 'x'], 30_000);
    const connected = () => rooms[0]!.peers.has('x') && rooms[1]!.peers.has('a');
    await advanceUntil(n, connected, 60_000);
    await n.advance(500);
    // x (its session stopped: we speak for it) plays on alone, a half of one with a higher id than a's.
    const ctl = rooms[1]!.channel('lockstep:ctl');
    let hellos = 0;
    ctl.on('message', ({ from, data }) => void (from === 'a' && decodeControl(data).kind === Kind.hello && hellos++));
    const splitHello = async () => {
      await ctl.send('a', encodeControl({ kind: Kind.hello, role: 'player', started: true, connected: ['a'], after: 0, players: ['x'] }));
      await n.advance(500);
    };
    await splitHello();
    await splitHello();
    expect(hellos).toBe(1); // answered once, not in a loop
    // x's connection closes and opens again: a's hello as it opens may be lost, and an answer
    // is then all that tells x's half of a's. Before, a answered a peer once per generation.
    n.block('a', 'x');
    await advanceUntil(n, () => !rooms[0]!.peers.has('x'), 10_000);
    n.unblock('a', 'x');
    await advanceUntil(n, connected, 60_000);
    await n.advance(500);
    const opened = hellos;
    await splitHello();
    expect(hellos).toBe(opened + 1);
    await splitHello();
    expect(hellos).toBe(opened + 1);
    expect([a.status, [...a.players]]).toEqual(['running', ['a']]);
    a.leave();
  }, 60_000);

  it('the larger half wins, and at equal size the one with the lowest id', () => {
    expect(outranks(['b', 'c'], ['a'])).toBe(true);
    expect(outranks(['a'], ['b', 'c'])).toBe(false);
    expect(outranks(['a'], ['b'])).toBe(true);
    expect(outranks(['c', 'b'], ['d', 'a'])).toBe(false);
  });
});
