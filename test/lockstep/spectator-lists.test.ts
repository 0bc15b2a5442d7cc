/**
 * Every member of a game lists the same spectators (`spectators`), spectators too: a
 * spectator lists another while some player reaches it, as the hellos of the players it is
 * connected to say, as the players do (PROTOCOL.md, "Forwarded inputs"; Departures.reached),
 * and forgets one that left the game as they do (its leave, or its hello from the lobby).
 */
import { describe, expect, it } from 'vitest';
import { createLockstepSession, type Room } from '../../src/index.js';
import { makeWalkGame, scriptedButtons } from './games.js';
import { advanceUntil, net, playing, walk, type Walk } from './support/memory-sessions.js';

const lists = (s: Record<string, Walk>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, [...v.spectators].sort()]));

/**
 * Players a and b; spectator `first` reaches a alone, then `second` b alone. The second's
 * join finds the first with no connection to it and no player the first hears reaching it:
 * the first never lists the second, while the second (admitted after) lists the first.
 * Their connection opens afterwards.
 */
async function spectatorsOnEitherSide(seed: number, first: string, second: string) {
  const n = net(seed);
  const logs: string[] = [];
  const { players: [a, b] } = await playing(n, seed, ['a', 'b'], logs);
  n.block('b', first);
  const one = walk(n.join('game', { peerId: first }), n, 2, { spectator: true }, logs);
  await advanceUntil(n, () => one.status === 'running', 10_000);
  n.block('a', second);
  n.block(first, second);
  const two = walk(n.join('game', { peerId: second }), n, 3, { spectator: true }, logs);
  await advanceUntil(n, () => two.status === 'running', 10_000);
  n.unblock(first, second);
  await n.advance(3_000);
  return { n, a: a!, b: b!, first: one, second: two };
}

describe('spectators lists', () => {
  it('a spectator lists a spectator whose join came before their connection opened, and forgets it with the players once it vanishes', async () => {
    const seed = 613;
    const n = net(seed);
    const logs: string[] = [];
    const { players: [a, b] } = await playing(n, seed, ['a', 'b'], logs);
    const d = walk(n.join('game', { peerId: 'd' }), n, 2, { spectator: true }, logs);
    await advanceUntil(n, () => d.status === 'running', 10_000);
    // g's connection to d opens 400 ms late: g's join from the coordinator reaches d first.
    n.setLink('d', 'g', { latencyMs: 400 });
    const g = walk(n.join('game', { peerId: 'g' }), n, 3, { spectator: true }, logs);
    await advanceUntil(n, () => g.status === 'running', 10_000);
    await n.advance(5_000);
    const all = ['d', 'g'];
    expect(lists({ a, b, d, g })).toEqual({ a: all, b: all, d: all, g: all });
    // g vanishes (no leave): the players forget it once their connections time out, d with them.
    n.disconnect('g');
    await n.advance(20_000);
    expect(lists({ a, b, d })).toEqual({ a: ['d'], b: ['d'], d: ['d'] });
    expect(d.status).toBe('running');
    for (const s of [a, b, d]) s.leave();
  });

  it('a spectator lists a spectator it cannot connect to while the players reach it, and after the block is lifted', async () => {
    const seed = 614;
    const n = net(seed);
    const logs: string[] = [];
    const { players: [a, b] } = await playing(n, seed, ['a', 'b'], logs);
    const d = walk(n.join('game', { peerId: 'd' }), n, 2, { spectator: true }, logs);
    await advanceUntil(n, () => d.status === 'running', 10_000);
    n.block('d', 'g');
    const g = walk(n.join('game', { peerId: 'g' }), n, 3, { spectator: true }, logs);
    await advanceUntil(n, () => g.status === 'running', 10_000);
    await n.advance(5_000);
    const all = ['d', 'g'];
    expect(lists({ a, b, d, g })).toEqual({ a: all, b: all, d: all, g: all });
    n.unblock('d', 'g');
    await n.advance(10_000);
    expect(lists({ a, b, d, g })).toEqual({ a: all, b: all, d: all, g: all });
    expect({ d: d.status, g: g.status }).toEqual({ d: 'running', g: 'running' });
    for (const s of [a, b, d, g]) s.leave();
  });

  // g reached by c alone among the players (blocked from a and b); d watches, and loses its
  // connection to c. c's last hello to d, listing g, grows stale: d went by it for good.
  async function onlyCReachesG(seed: number) {
    const n = net(seed);
    const logs: string[] = [];
    const { players: [a, b, c] } = await playing(n, seed, ['a', 'b', 'c'], logs);
    const d = walk(n.join('game', { peerId: 'd' }), n, 3, { spectator: true }, logs);
    await advanceUntil(n, () => d.status === 'running', 10_000);
    n.block('a', 'g');
    n.block('b', 'g');
    const g = walk(n.join('game', { peerId: 'g' }), n, 4, { spectator: true }, logs);
    await advanceUntil(n, () => g.status === 'running', 20_000);
    await n.advance(3_000);
    const all = ['d', 'g'];
    expect(lists({ a, b, c, d, g })).toEqual({ a: all, b: all, c: all, d: all, g: all });
    return { n, a, b, c, d, g };
  }

  /** d's connection to c closes, then g vanishes without a leave: in the end every peer lists d alone, and d still runs. */
  async function dLosesCThenGVanishes({ n, a, b, c, d }: Awaited<ReturnType<typeof onlyCReachesG>>): Promise<void> {
    n.block('c', 'd');
    await n.advance(10_000);
    n.disconnect('g');
    await n.advance(20_000);
    expect(lists({ a, b, c, d })).toEqual({ a: ['d'], b: ['d'], c: ['d'], d: ['d'] });
    expect(d.status).toBe('running');
    for (const s of [a, b, c, d]) s.leave();
  }

  it('a spectator forgets a vanished spectator that only a player it lost its connection to reached', async () => {
    const game = await onlyCReachesG(615);
    await dLosesCThenGVanishes(game);
  });

  it('a spectator forgets a spectator it reached only through a player once its connection to that player closes', async () => {
    const game = await onlyCReachesG(616);
    const { n, a, d } = game;
    // d loses g first: c still reaches it, so d lists it on, as every player does.
    n.block('d', 'g');
    await n.advance(10_000);
    expect(lists({ a, d })).toEqual({ a: ['d', 'g'], d: ['d', 'g'] });
    // Then c: d hears nobody that reaches g any more, and would never hear that g is gone.
    await dLosesCThenGVanishes(game);
  });

  it('a spectator whose last connection to a player closes goes back to the lobby without forgetting itself', async () => {
    const seed = 617;
    const n = net(seed);
    const logs: string[] = [];
    const { players: [a, b, c] } = await playing(n, seed, ['a', 'b', 'c'], logs);
    n.block('b', 'd');
    n.block('c', 'd');
    const d = walk(n.join('game', { peerId: 'd' }), n, 3, { spectator: true }, logs);
    await advanceUntil(n, () => d.status === 'running', 20_000);
    await n.advance(2_000);
    expect(lists({ a, d })).toEqual({ a: ['d'], d: ['d'] });
    // No player d hears reaches d once its connection to a closes: that is for d itself to
    // handle (players-gone), not a spectator of its list that left.
    const left: string[] = [];
    const rejoining: string[] = [];
    d.on('player-left', ({ peer }) => left.push(peer));
    d.on('rejoining', ({ reason }) => rejoining.push(reason.code));
    n.block('a', 'd');
    await advanceUntil(n, () => rejoining.length > 0, 20_000);
    expect({ rejoining, left }).toEqual({ rejoining: ['players-gone'], left: [] });
    for (const s of [a, b, c, d]) s.leave();
  });

  // e watches through b (blocked from the coordinator a), and w's hello reaches a 50 ms
  // after e's: w is admitted after e's join was proposed, before e's join frame. e's
  // snapshot lists w, while w's join, which b passed on before it served e, never reached e.
  async function admittedRightAfter(seed: number) {
    const n = net(seed);
    const logs: string[] = [];
    const { players: [a, b] } = await playing(n, seed, ['a', 'b'], logs);
    n.block('a', 'e');
    const eRoom = n.join('game', { peerId: 'e' });
    const wRoom = n.join('game', { peerId: 'w' });
    await advanceUntil(n, () => eRoom.peers.size === 2 && wRoom.peers.size === 3, 5_000, 10);
    const e = walk(eRoom, n, 2, { spectator: true }, logs);
    await n.advance(50);
    const w = walk(wRoom, n, 3, { spectator: true }, logs);
    await advanceUntil(n, () => e.status === 'running' && w.status === 'running', 10_000);
    await n.advance(2_000);
    const all = ['e', 'w'];
    expect(lists({ a, b, e, w })).toEqual({ a: all, b: all, e: all, w: all });
    return { n, a, b, e, w, wRoom };
  }

  it('a spectator admitted through a forwarder forgets a spectator admitted just after it once that one leaves the game (but not the room)', async () => {
    const { n, a, b, e, w } = await admittedRightAfter(618);
    // Not knowing w's admission, e took w's leave for one of an admission still to come.
    w.leave();
    await n.advance(5_000);
    expect(lists({ a, b, e })).toEqual({ a: ['e'], b: ['e'], e: ['e'] });
    for (const s of [a, b, e]) s.leave();
  });

  it('a spectator that left the game and comes back as a spectator is listed again, and its hashes are judged again', async () => {
    const { n, a, b, e, w, wRoom } = await admittedRightAfter(619);
    w.leave();
    await n.advance(5_000);
    expect(lists({ a, b, e })).toEqual({ a: ['e'], b: ['e'], e: ['e'] });
    // w's next session steps a state of its own from frame `at` on: e tells only if it
    // judges w's hashes, as a member's.
    const at = a.frame + 300;
    const w2 = divergingSpectator(wRoom, n, at);
    const desyncs: string[] = [];
    e.on('desync', ({ frame, hashes }) => desyncs.push(`${frame}:${Object.keys(hashes).sort().join(',')}`));
    await advanceUntil(n, () => w2.status === 'running', 10_000);
    await n.advance(2_000);
    const all = ['e', 'w'];
    expect(lists({ a, b, e, w: w2 })).toEqual({ a: all, b: all, e: all, w: all });
    await advanceUntil(n, () => e.frame > at + 60, 10_000);
    expect(desyncs.length).toBeGreaterThan(0);
    expect(desyncs[0]).toMatch(/:.*\bw\b/);
    for (const s of [a, b, e, w2]) s.leave();
  });

  it('a spectator forgets a spectator that went back to the lobby without telling it (it lost every player)', async () => {
    const { n, a, b, first: d, second: g } = await spectatorsOnEitherSide(620, 'd', 'g');
    expect(lists({ a, b, d, g })).toEqual({ a: ['d', 'g'], b: ['d', 'g'], d: ['d'], g: ['d', 'g'] });
    // d loses a: back to the lobby. Its leave goes to the members it lists (a, gone from its
    // view), and no player passes it on; g still has its connection to d.
    n.block('a', 'd');
    await advanceUntil(n, () => d.status === 'lobby', 10_000);
    await n.advance(5_000);
    expect(lists({ a, b, g })).toEqual({ a: ['g'], b: ['g'], g: ['g'] });
    expect(d.status).toBe('lobby');
    // d reaches a again: admitted again, listed again by all.
    n.unblock('a', 'd');
    await advanceUntil(n, () => d.status === 'running', 15_000);
    await n.advance(3_000);
    expect(lists({ a, b, g })).toEqual({ a: ['d', 'g'], b: ['d', 'g'], g: ['d', 'g'] });
    for (const s of [a, b, d, g]) s.leave();
  });

  it('a spectator hears the leave of a spectator that does not list it through a player the leaver never reached', async () => {
    const { n, a, b, first: w, second: e } = await spectatorsOnEitherSide(621, 'w', 'e');
    expect(lists({ a, b, e, w })).toEqual({ a: ['e', 'w'], b: ['e', 'w'], e: ['e', 'w'], w: ['w'] });
    // w's leave reaches a, which passes it on to b; e hears it from b alone.
    w.leave();
    await n.advance(5_000);
    expect(lists({ a, b, e })).toEqual({ a: ['e'], b: ['e'], e: ['e'] });
    for (const s of [a, b, e]) s.leave();
  });
});

/** A spectator session in `room` whose walk game adds a salt of its own to its state at frame `at`. */
function divergingSpectator(room: Room, n: ReturnType<typeof net>, at: number): Walk {
  const s: Walk = createLockstepSession({
    room, game: makeWalkGame({ divergeAt: at, salt: 1 }), clock: n.clock, inputDelay: 'auto', spectator: true,
    input: () => scriptedButtons(s.frame, 3),
  }) as Walk;
  return s;
}
