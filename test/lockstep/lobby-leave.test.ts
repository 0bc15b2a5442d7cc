/**
 * A session that leaves from the lobby (the app's menu drops the game, the page stays in
 * the room) said in its hellos that it would play. Its leave now tells the others: before,
 * a start seated it and a running game admitted it from its stale hello, and every player
 * stalled 10 s on it until it counted as silent.
 */
import { describe, expect, it } from 'vitest';
import type { LockstepEvents } from '../../src/index.js';
import { connect, net, walk, type Walk } from './support/memory-sessions.js';

describe('lockstep: leave() from the lobby', () => {
  it.each([
    ['a default start does not seat it', undefined],
    ['a game started without it does not admit it', ['a', 'b']],
  ] as const)('%s, and nobody waits on it; a new session of it later joins as usual', async (_, players) => {
    const n = net(8);
    const rooms = await connect(n, ['a', 'b', 'c']);
    const logs: string[] = [];
    const [a, b, c] = rooms.map((r, i) => walk(r, n, i, {}, logs)) as [Walk, Walk, Walk];
    await n.advance(1500); // every hello is in
    c.leave();
    expect(c.status).toBe('stopped');
    await n.advance(300);
    const started: string[][] = [];
    const absent: Array<LockstepEvents['absent']> = [];
    const joined: string[] = [];
    a.on('started', (e) => started.push(e.players));
    a.on('absent', (e) => absent.push(e));
    a.on('player-joined', (e) => joined.push(e.peer));
    a.start({ seed: 3, ...(players ? { players: [...players] } : {}) });
    await n.advance(15_000);
    expect(started).toEqual([['a', 'b']]);
    expect(absent).toEqual([]);
    expect(joined).toEqual([]);
    expect(Math.min(a.frame, b.frame)).toBeGreaterThan(850); // 15 s at 60 Hz, no 10 s stall
    // The page comes back to the game: a new session on the same room is admitted.
    walk(rooms[2]!, n, 2, {}, logs);
    await n.advance(8000);
    expect(joined).toEqual(['c']);
  });
});
