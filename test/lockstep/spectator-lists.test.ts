/**
 * Every member of a game lists the same spectators (`spectators`), spectators too: a
 * spectator lists another while some player reaches it, as the hellos of the players it is
 * connected to say, as the players do (PROTOCOL.md, "Forwarded inputs"; Departures.reached).
 */
import { describe, expect, it } from 'vitest';
import { advanceUntil, net, playing, walk, type Walk } from './support/memory-sessions.js';

const lists = (s: Record<string, Walk>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, [...v.spectators].sort()]));

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
});
