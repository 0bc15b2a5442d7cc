/**
 * A player arriving mid-game that cannot reach the coordinator is never admitted (a player
 * must reach every player: nothing is forwarded to players). It used to wait in the lobby
 * in silence for good; now it hears `not-admitted` after NOT_ADMITTED_MS, naming whom it
 * cannot reach. (A spectator in that spot is admitted through another player:
 * forwarded-inputs.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { NOT_ADMITTED_MS } from '../../src/lockstep/lobby-wait.js';
import { advanceUntil, connect, net, walk } from './support/memory-sessions.js';

describe('a peer waiting in the lobby while a game runs', () => {
  it('one that cannot reach the coordinator is told, with it named; one that can is admitted and told nothing', async () => {
    const n = net(621);
    const rooms = await connect(n, ['a', 'b']);
    const [a, b] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
    await n.advance(200);
    a.start({ seed: 621 });
    await n.advance(1000);
    n.setLink('w', 'a', { latencyMs: 1e9 }); // nothing between w and the coordinator a ever arrives
    const w = walk(n.join('game', { peerId: 'w' }), n, 2);
    const z = walk(n.join('game', { peerId: 'z' }), n, 3, { spectator: true });
    const told: string[] = [];
    for (const s of [w, z]) s.on('not-admitted', (e) => told.push(`${s.selfId}: ${e.reason.code} playing ${[...e.playing].sort().join(',')} unreachable ${e.unreachable.join(',')}`));
    await advanceUntil(n, () => told.length > 0, NOT_ADMITTED_MS + 5000);
    await n.advance(2000);
    expect({ told, w: w.status, z: z.status }).toEqual({ told: ['w: not-admitted playing b unreachable a'], w: 'lobby', z: 'running' });
    await n.advance(NOT_ADMITTED_MS * 2);
    expect(told).toHaveLength(1); // once per stay in the lobby
    for (const s of [a, b, w, z]) s.leave();
  });
});
