/**
 * A session's numeric options are checked when it is created: tickHz travels to the other
 * peers in one byte and hashEvery as a varint, so a value they cannot carry used to run
 * the starter at one rate and the others at another (tickHz 300 reached them as 44 Hz),
 * or have them all refuse the start (tickHz 256 reached them as 0), or make start() throw
 * bad-varint (a fractional hashEvery). Now it is `bad-argument` at once, naming the option.
 */
import { describe, expect, it } from 'vitest';
import { createLockstepSession, type LockstepSessionOptions } from '../../src/index.js';
import { makeWalkGame } from './games.js';
import { connect, net } from './support/memory-sessions.js';

describe('lockstep session options', () => {
  it('refuses a tickHz, hashEvery, inputDelay or maxPlayers out of range with bad-argument, naming it, and holds nothing', async () => {
    const n = net(1);
    const [room] = await connect(n, ['a', 'b']);
    const bad: Array<Partial<LockstepSessionOptions<unknown, unknown>>> = [
      { tickHz: 300 },
      { tickHz: 256 },
      { tickHz: 0 },
      { tickHz: 59.5 },
      { hashEvery: 0 },
      { hashEvery: 2.5 },
      { inputDelay: Number.NaN },
      { inputDelay: Number.POSITIVE_INFINITY },
      { maxPlayers: 0 },
      { maxPlayers: 257 },
    ];
    for (const extra of bad) {
      const [name] = Object.keys(extra);
      expect(() => createLockstepSession({ room: room!, game: makeWalkGame(), log: () => {}, ...extra } as never), JSON.stringify(extra)).toThrow(
        expect.objectContaining({ code: 'bad-argument', detail: { option: name }, message: expect.stringContaining(name!) }),
      );
    }
    // A refused session claimed nothing: a good one takes the channel prefix at once.
    const ok = createLockstepSession({ room: room!, game: makeWalkGame(), log: () => {}, tickHz: 255, hashEvery: 1, inputDelay: 99, maxPlayers: 256 });
    ok.leave();
  });

  it('carries a tickHz other than 60 and a hashEvery other than 10 to the other peers unchanged', async () => {
    const n = net(2);
    const [a, b] = await connect(n, ['a', 'b']);
    const game = makeWalkGame();
    const sa = createLockstepSession({ room: a!, game, log: () => {}, clock: n.clock, tickHz: 240, hashEvery: 7 });
    const sb = createLockstepSession({ room: b!, game, log: () => {}, clock: n.clock });
    const started: number[] = [];
    sb.on('started', (e) => started.push(e.tickHz));
    await n.advance(300);
    sa.start({ seed: 5 });
    await n.advance(1000);
    expect(started).toEqual([240]);
    expect(sb.stats().tickHz).toBe(240);
    expect(sb.frame).toBeGreaterThan(100); // running at the starter's rate with it
    expect(sb.recording().hashes.every(([f]) => f % 7 === 0)).toBe(true);
    sa.leave();
    sb.leave();
  });
  it('start() refuses a players or spectators list naming a peer twice with bad-argument, and starts nothing', async () => {
    const n = net(4);
    const rooms = await connect(n, ['a', 'b', 'c']);
    const [a, b, c] = rooms.map((room) => createLockstepSession({ room, game: makeWalkGame(), clock: n.clock, log: () => {} }));
    await n.advance(200);
    expect(() => a!.start({ seed: 1, players: ['a', 'b', 'a'] })).toThrow(expect.objectContaining({ code: 'bad-argument', detail: { option: 'players', peer: 'a' } }));
    expect(() => a!.start({ seed: 1, players: ['a'], spectators: ['c', 'c'] })).toThrow(expect.objectContaining({ code: 'bad-argument', detail: { option: 'spectators', peer: 'c' } }));
    await n.advance(500);
    expect([a!.status, b!.status, c!.status]).toEqual(['lobby', 'lobby', 'lobby']);
    const started: string[][] = [];
    b!.on('started', ({ players }) => started.push(players));
    a!.start({ seed: 1, players: ['a', 'b'] });
    await n.advance(500);
    expect(started).toEqual([['a', 'b']]);
  });
});
