/**
 * A forged `join` naming a far frame, taken by a peer in the lobby (any peer of the room
 * can send one). After its snapshot never came, the peer's `after` stood past that frame,
 * so the real coordinator scheduled its join there too, where no snapshot ever comes: one
 * message kept a friend out of the game for good.
 */
import { describe, expect, it } from 'vitest';
import { Kind, encodeControl, generationOf } from '../../src/lockstep/wire.js';
import { advanceUntil, connect, expectAgreement, net, walk } from './support/memory-sessions.js';

describe('a forged join naming a far frame', () => {
  it('taken in the lobby, it costs the joiner one snapshot deadline; then the real coordinator admits it at a frame of the game', async () => {
    const n = net(631);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b', 'x']);
    const [a, b] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs)];
    await n.advance(200);
    a.start({ seed: 631, players: ['a', 'b'] });
    await n.advance(1000);
    n.setLink('a', 'w', { latencyMs: 600 }); // x's join reaches w before a's
    const w = walk(n.join('game', { peerId: 'w' }), n, 2, { spectator: true }, logs);
    for (let i = 0; i < 100 && !rooms[2]!.peers.has('w'); i++) await n.advance(10);
    await n.advance(300);
    const forged = { kind: Kind.join as typeof Kind.join, gen: generationOf(631, 'a'), peer: 'w', role: 'spectator' as const, atFrame: 10_000_000, seed: 631, tickHz: 60, delay: 2, hashEvery: 10, members: [[0, 'x']] as Array<[number, string]> };
    await rooms[2]!.channel('lockstep:ctl', { reliability: 'reliable' }).send('w', encodeControl(forged));
    const started: number[] = [];
    const rejoins: string[] = [];
    w.on('started', (e) => started.push(e.frame));
    w.on('rejoining', (e) => rejoins.push(e.reason.code));
    await advanceUntil(n, () => started.length > 0, 60_000);
    expect({ started: started.length, rejoins, near: Math.abs((started[0] ?? 0) - a.frame) < 200 }).toEqual({ started: 1, rejoins: ['no-snapshot'], near: true });
    const target = a.frame + 300;
    await advanceUntil(n, () => w.frame >= target, 20_000);
    expect(expectAgreement([a, b, w], started[0]!, target)).toBeGreaterThan(20);
    for (const s of [a, b, w]) s.leave();
  });
});
