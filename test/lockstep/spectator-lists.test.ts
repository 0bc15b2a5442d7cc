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
});
