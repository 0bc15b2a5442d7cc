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

/**
 * `inner`'s time, with every timer held while frozen and run at the thaw: a tab stopped by
 * the browser. Hidden, its timers wait 1 s at least: a background tab, whose timers the
 * browser runs at most once a second.
 */
function freezable(inner: Clock): { clock: Clock; freeze(): void; thaw(): void; hide(): void } {
  let frozen = false;
  let hidden = false;
  const held: Array<() => void> = [];
  return {
    clock: {
      now: () => inner.now(),
      setTimeout: (fn, ms) => inner.setTimeout(() => (frozen ? held.push(fn) : fn()), hidden ? Math.max(ms, 1000) : ms),
      clearTimeout: (h) => inner.clearTimeout(h),
    },
    freeze: () => (frozen = true),
    thaw: () => {
      frozen = false;
      for (const fn of held.splice(0)) fn();
    },
    hide: () => (hidden = true),
  };
}

/** `inner`'s time with every timer waiting `minMs` at least: a machine too busy to tick at the game's rate. */
function busy(inner: Clock, minMs: number): Clock {
  return { now: () => inner.now(), setTimeout: (fn, ms) => inner.setTimeout(fn, Math.max(ms, minMs)), clearTimeout: (h) => inner.clearTimeout(h) };
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

  it('a player alone, 1800 frames ahead of the two others whose tabs were stopped 30 s, gives way to their larger game and is admitted at once, not that far on', async () => {
    const n = net(84);
    const rooms = await connect(n, ['a', 'b', 'c']);
    const tabs = freezable(n.clock as ManualClock);
    const [a, b, c] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1, { clock: tabs.clock }), walk(rooms[2]!, n, 2, { clock: tabs.clock })];
    const events = watch([a, b, c]);
    const times: Record<string, number> = {};
    a.on('rejoining', ({ reason }) => (times[reason.code] = n.clock.now()));
    a.on('started', () => (times.started = n.clock.now()));
    await n.advance(500);
    a.start({ seed: 2 });
    await n.advance(2000);
    tabs.freeze();
    n.block('a', 'b');
    n.block('a', 'c');
    await n.advance(30_000);
    n.unblock('a', 'b');
    n.unblock('a', 'c');
    tabs.thaw();
    await advanceUntil(n, () => times.split !== undefined, 60_000);
    await n.advance(3000);
    // a gave way (two players against one, however far ahead it was) and was admitted within
    // a second; with its own frames as the floor of its next admission, the join waited for
    // b and c to reach them (35 s, a snapshot deadline missed on the way).
    expect(events).toEqual(['a rejoining split']);
    expect(times.started! - times.split!).toBeLessThan(1000);
    for (const s of [a, b, c]) expect([s.status, [...s.players].sort()]).toEqual(['running', ['a', 'b', 'c']]);
    const to = Math.min(a.frame, b.frame, c.frame);
    expect(expectAgreement([a, b, c], to - 100, to)).toBeGreaterThan(5);
    for (const s of [a, b, c]) s.leave();
  }, 60_000);

  // Both ways round: which one gives way goes by who kept playing, not by the ids.
  for (const [sleeper, stayer] of [['a', 'b'], ['b', 'a']] as const) {
    it(`two players, ${sleeper}'s tab stopped 6 s with its connections: ${stayer}, who played on, stays in its game, and ${sleeper} rejoins it (split), on both sides alike`, async () => {
      const n = net(87);
      const rooms = await connect(n, ['a', 'b']);
      const tab = freezable(n.clock as ManualClock);
      const sessions = rooms.map((r, i) => walk(r, n, i, r.selfId === sleeper ? { clock: tab.clock } : {}));
      const [s, p] = [sessions[sleeper === 'a' ? 0 : 1]!, sessions[sleeper === 'a' ? 1 : 0]!];
      const events = watch(sessions);
      const frames: Array<{ theirs: number; ours: number }> = [];
      s.on('rejoining', ({ reason }) => frames.push(reason.detail!.frames as { theirs: number; ours: number }));
      await n.advance(500);
      p.start({ seed: 6 });
      await n.advance(2000);
      const before = p.frame;
      tab.freeze();
      n.block('a', 'b');
      await n.advance(6000);
      n.unblock('a', 'b');
      tab.thaw();
      await advanceUntil(n, () => sessions.every((x) => x.status === 'running' && x.players.length === 2), 60_000);
      await n.advance(3000);
      // The stayer played on (6 s of frames) while the sleeper was stopped: it never left its game.
      expect(events).toEqual([`${sleeper} rejoining split`]);
      expect(frames[0]!.theirs - frames[0]!.ours).toBeGreaterThan(300);
      expect(p.frame - before).toBeGreaterThan(60 * 9); // and went on without a stand
      for (const x of sessions) expect([x.status, [...x.players].sort()]).toEqual(['running', ['a', 'b']]);
      const to = Math.min(s.frame, p.frame);
      expect(expectAgreement(sessions, to - 100, to)).toBeGreaterThan(5);
      for (const x of sessions) x.leave();
    }, 60_000);
  }

  it('on a machine stepping 10 frames a second, a\'s tab stopped 4 s with its connections: b, who played on 40 frames meanwhile, stays, and a (the lower id) rejoins its game', async () => {
    const n = net(90);
    const rooms = await connect(n, ['a', 'b']);
    const slow = busy(n.clock, 100);
    const tab = freezable(slow);
    const [a, b] = [walk(rooms[0]!, n, 0, { clock: tab.clock }), walk(rooms[1]!, n, 1, { clock: slow })];
    const events = watch([a, b]);
    const frames: Array<{ theirs: number; ours: number }> = [];
    a.on('rejoining', ({ reason }) => frames.push(reason.detail!.frames as { theirs: number; ours: number }));
    await n.advance(500);
    b.start({ seed: 9 });
    await n.advance(3000);
    tab.freeze();
    n.block('a', 'b');
    await n.advance(4000);
    n.unblock('a', 'b');
    tab.thaw();
    await advanceUntil(n, () => [a, b].every((x) => x.status === 'running' && x.players.length === 2), 120_000);
    await n.advance(5000);
    // A second of frames (60) is more than b got ahead at this pace: the ids would decide, for a.
    expect(events).toEqual(['a rejoining split']);
    expect(frames[0]!.theirs - frames[0]!.ours).toBeGreaterThan(15);
    expect(frames[0]!.theirs - frames[0]!.ours).toBeLessThan(60);
    for (const x of [a, b]) expect([x.status, [...x.players].sort()]).toEqual(['running', ['a', 'b']]);
    const to = Math.min(a.frame, b.frame);
    expect(expectAgreement([a, b], to - 50, to)).toBeGreaterThan(2);
    for (const x of [a, b]) x.leave();
  }, 60_000);

  it('a sleeper whose tab comes back hidden (its timers once a second, alone) rejoins the game of the one who stayed, which never waits on it in joining', async () => {
    const n = net(88);
    const rooms = await connect(n, ['a', 'b']);
    const tab = freezable(n.clock as ManualClock);
    const [a, b] = [walk(rooms[0]!, n, 0, { clock: tab.clock }), walk(rooms[1]!, n, 1)];
    const events = watch([a, b]);
    const statuses = new Set<string>();
    await n.advance(500);
    b.start({ seed: 7 });
    await n.advance(2000);
    tab.freeze();
    n.block('a', 'b');
    await n.advance(6000);
    n.unblock('a', 'b');
    tab.hide();
    tab.thaw();
    await advanceUntil(
      n,
      () => {
        statuses.add(b.status);
        return [a, b].every((x) => x.status === 'running' && x.players.length === 2);
      },
      60_000,
    );
    await n.advance(3000);
    // Before, a (the lower id) won: b went into a's game and waited there ~9 s in `joining`
    // for a snapshot from a tab stepping once a second.
    expect(events).toEqual(['a rejoining split']);
    expect([...statuses]).toEqual(['running']);
    for (const x of [a, b]) expect([x.status, [...x.players].sort()]).toEqual(['running', ['a', 'b']]);
    const to = Math.min(a.frame, b.frame);
    expect(expectAgreement([a, b], to - 100, to)).toBeGreaterThan(5);
    for (const x of [a, b]) x.leave();
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
    const said: number[] = []; // the frame of each hello of a's
    ctl.on('message', ({ from, data }) => {
      const m = decodeControl(data);
      if (from !== 'a' || m.kind !== Kind.hello) return;
      hellos++;
      said.push(m.frame!);
    });
    const splitHello = async () => {
      await ctl.send('a', encodeControl({ kind: Kind.hello, role: 'player', started: true, connected: ['a'], after: 0, players: ['x'] }));
      await n.advance(500);
    };
    await splitHello();
    await splitHello();
    expect(hellos).toBe(1); // answered once, not in a loop
    // Its frame as it met x again, not its frame now: the same in every hello to x (both ends judge the same numbers).
    const met = said[0]!;
    expect(a.frame - met).toBeGreaterThan(30);
    // x's connection closes and opens again: a's hello as it opens may be lost, and an answer
    // is then all that tells x's half of a's. Before, a answered a peer once per generation.
    const first = said.length;
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
    // A new connection is a new meeting: a later frame, again the same in every hello to x.
    const again = said.slice(first);
    expect(again[0]).toBeGreaterThan(met + 60);
    expect(new Set(again).size).toBe(1);
    expect([a.status, [...a.players]]).toEqual(['running', ['a']]);
    a.leave();
  }, 60_000);

  it('a player that we drop while connected to it hears our hello then: its half judges ours again (it may have done so on a hello of ours from before our drop)', async () => {
    const n = net(89);
    const rooms = await connect(n, ['a', 'x']);
    const [a, x] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
    const events = watch([a]);
    await n.advance(500);
    a.start({ seed: 8 });
    await n.advance(2000);
    const ctl = rooms[1]!.channel('lockstep:ctl');
    const said: Array<{ players: string[]; frame: number }> = [];
    ctl.on('message', ({ from, data }) => {
      const m = decodeControl(data);
      if (from === 'a' && m.kind === Kind.hello) said.push({ players: m.players!, frame: m.frame! });
    });
    // x leaves the game but not the room (as a half that dropped a and plays on would seem to a, once a drops it).
    x.leave();
    await n.advance(500);
    expect([...a.players]).toEqual(['a']);
    expect(said).toHaveLength(1);
    expect(said[0]!.players).toEqual(['a']);
    // Its half (of one) judges a's frame fixed in that hello: one more than a quarter second (15 frames) ahead of it outranks a's.
    const hello = (frame: number) => encodeControl({ kind: Kind.hello, role: 'player', started: true, connected: ['a'], after: 0, players: ['x'], frame });
    await ctl.send('a', hello(said[0]!.frame + 15));
    await n.advance(500);
    expect(events).toEqual([]); // within the lead: a's lower id wins, and a answers (its frame as before)
    expect(said.map((h) => h.frame)).toEqual([said[0]!.frame, said[0]!.frame]);
    await ctl.send('a', hello(said[0]!.frame + 16));
    await n.advance(500);
    expect(events).toEqual(['a rejoining split']);
    a.leave();
  }, 60_000);

  it('the larger half wins; at equal size the one further ahead by more than a quarter second (one player a side) or a second (more), else the one with the lowest id; of two halves exactly one wins', () => {
    const half = (players: string[], frame: number) => ({ players, frame });
    expect(outranks(half(['b', 'c'], 0), half(['a'], 900), 60)).toBe(true);
    expect(outranks(half(['a'], 900), half(['b', 'c'], 0), 60)).toBe(false);
    expect(outranks(half(['b'], 900), half(['a'], 500), 60)).toBe(true);
    expect(outranks(half(['a'], 500), half(['b'], 900), 60)).toBe(false);
    expect(outranks(half(['a'], 500), half(['b'], 515), 60)).toBe(true); // within 15 frames: ids
    expect(outranks(half(['b'], 516), half(['a'], 500), 60)).toBe(true);
    expect(outranks(half(['b', 'c'], 540), half(['a', 'd'], 500), 60)).toBe(false); // two a side: within a second, ids
    expect(outranks(half(['b', 'c'], 561), half(['a', 'd'], 500), 60)).toBe(true);
    expect(outranks(half(['c', 'b'], 100), half(['d', 'a'], 100), 60)).toBe(false);
    // Both halves judge the same two numbers: one of them, never both nor neither, gives way.
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (let i = 0; i < 500; i++) {
      const x = half(ids.slice(0, 1 + (i % 3)), (i * 37) % 200);
      const y = half(ids.slice(3, 4 + ((i >> 2) % 3)), (i * 53) % 200);
      expect(outranks(x, y, 60), JSON.stringify([x, y])).toBe(!outranks(y, x, 60));
    }
  });
});
