/**
 * A member the session ignores (it sent 100 bad messages) while it stays in the room: its
 * packets and acknowledgements are dropped, so keeping it a member froze the game (a
 * player's inputs waited for, a spectator's joinAck holding up the next join).
 */
import { describe, expect, it } from 'vitest';
import { advanceUntil, connect, expectAgreement, net, playing, walk, playersAndSpectator } from './support/memory-sessions.js';

// No mesh strike limit: the session's own (100 bad messages) is what this tests; the mesh cuts off at its maxStrikes (peer-conduct.test).
const NO_MESH_LIMIT = { mesh: { maxStrikes: Infinity } };

describe('a member the session ignores', () => {
  it('a spectator that sent 100 bad messages to the coordinator stops being a member: the next late joiner gets in and the game goes on', async () => {
    const n = net(611, NO_MESH_LIMIT);
    const logs: string[] = [];
    const { rooms, a, b, w } = await playersAndSpectator(n, 611, logs, 100);
    const absent: string[] = [];
    a.on('absent', (e) => absent.push(`${e.peer}:${e.role}:${e.reason.code}`));
    for (let i = 0; i < 100; i++) void rooms[2]!.channel('lockstep:ctl').send('a', new Uint8Array([99]));
    await n.advance(500);
    const z = walk(n.join('game', { peerId: 'z' }), n, 3, {}, logs);
    let joinedAt = -1;
    z.on('started', (e) => (joinedAt = e.frame));
    await advanceUntil(n, () => z.status === 'running' && z.frame >= joinedAt + 300, 30_000);
    expect({ z: z.status, players: [...a.players].sort(), moving: z.frame >= joinedAt + 300 }).toEqual({ z: 'running', players: ['a', 'b', 'z'], moving: true });
    expectAgreement([a, b, z], joinedAt, z.frame);
    expect({ absent, spectators: a.spectators }).toEqual({ absent: ['w:spectator:member-ignored'], spectators: [] });
    for (const s of [a, b, z, w]) s.leave();
  });

  it('a player that sent 100 bad messages is dropped at an agreed frame rather than waited for', async () => {
    const n = net(612, NO_MESH_LIMIT);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b', 'c']);
    const [a, b, c] = [0, 1, 2].map((i) => walk(rooms[i]!, n, i, {}, logs));
    await n.advance(200);
    a!.start({ seed: 612, players: ['a', 'b', 'c'] });
    await advanceUntil(n, () => c!.frame >= 100, 10_000);
    for (let i = 0; i < 100; i++) void rooms[2]!.channel('lockstep:ctl').send('a', new Uint8Array([99]));
    await n.advance(500);
    const at = a!.frame;
    await advanceUntil(n, () => a!.frame >= at + 600 && b!.frame >= at + 600, 30_000);
    expect({ a: a!.frame >= at + 600, b: b!.frame >= at + 600, players: [...a!.players].sort(), c: c!.status }).toEqual({ a: true, b: true, players: ['a', 'b'], c: 'lobby' }); // c, dropped while in the room, is back in the lobby (rejoining, dropped); a ignores its hellos
    expectAgreement([a!, b!], 10, at + 600);
    for (const s of [a!, b!]) s.leave();
  });
});

describe('a spectator another spectator does not list', () => {
  it('is not counted a bad sender, so never ignored, for the hashes it sends that spectator once their connection opens', async () => {
    const seed = 613;
    const n = net(seed);
    const logs: string[] = [];
    const { players: [a, b] } = await playing(n, seed, ['a', 'b'], logs);
    const d = walk(n.join('game', { peerId: 'd' }), n, 2, { spectator: true }, logs);
    n.block('d', 'b');
    await advanceUntil(n, () => d.status === 'running', 10_000);
    // g's connection to d takes a while to open (400 ms links): g's join reaches d first, and
    // d, a spectator with no connection to g, lists it only if a player it hears from
    // reaches it (Departures.reached): only b does, and d has no connection to b. g lists d,
    // and sends it its hashes once connected, six a second.
    n.block('a', 'g');
    n.setLink('d', 'g', { latencyMs: 400 });
    const g = walk(n.join('game', { peerId: 'g' }), n, 3, { spectator: true }, logs);
    await advanceUntil(n, () => g.status === 'running', 20_000);
    expect({ a: a.spectators, d: d.spectators, g: g.spectators }).toEqual({ a: ['d', 'g'], d: ['d'], g: ['d', 'g'] });
    // 100 bad messages, some 17 s of hashes, and d would ignore g for good.
    await n.advance(30_000);
    expect(logs.filter((l) => /^d: dropped a message from g/.test(l))).toEqual([]);
    expect({ d: d.status, g: g.status, a: a.spectators }).toEqual({ d: 'running', g: 'running', a: ['d', 'g'] });
    for (const s of [a, b, d, g]) s.leave();
  });
});
