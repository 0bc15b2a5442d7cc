/** A game or app callback that fails must not freeze the game for everyone in silence. */
import { describe, expect, it } from 'vitest';
import { createLockstepSession, defineGame, type LockstepEvents } from '../../src/index.js';
import { makeWalkGame, scriptedButtons } from './games.js';
import { advanceUntil, connect, expectAgreement, net, type Walk } from './support/memory-sessions.js';

describe('lockstep: failing app callbacks', () => {
  it.each([
    ['throws', () => { throw new Error('gamepad unplugged'); }],
    ['returns what the input cannot encode', () => undefined],
  ])('a player whose input() %s plays its last input on, logged once, and nobody stalls', async (_, broken) => {
    const n = net(31);
    const rooms = await connect(n, ['a', 'b']);
    const logs: string[] = [];
    let reads = 0;
    const sessions = rooms.map((room, i) => {
      const s: Walk = createLockstepSession({
        room, game: makeWalkGame(), clock: n.clock, log: (m) => logs.push(`${room.selfId}: ${m}`),
        // b's sampler breaks after 40 reads.
        input: () => (i === 1 && ++reads > 40 ? (broken() as never) : scriptedButtons(s.frame, i)),
      }) as Walk;
      return s;
    });
    await n.advance(200);
    sessions[0]!.start({ seed: 5 });
    await advanceUntil(n, () => sessions.every((s) => s.frame >= 300), 20_000);
    expect(sessions.map((s) => s.frame >= 300)).toEqual([true, true]);
    expect(expectAgreement(sessions, 0, 300)).toBe(31);
    expect(logs.filter((l) => l.includes('input() failed'))).toHaveLength(1);
    expect(logs.filter((l) => l.includes('tick failed'))).toEqual([]);
  });
  /** The walk game, whose step (or serialize, of the state at `frame`) throws at `frame` on the peers `on` lists. */
  function failingGame(self: string, on: string[], what: 'step' | 'serialize', frame: number) {
    const base = makeWalkGame();
    const fails = (f: number) => on.includes(self) && f === frame;
    return defineGame({
      ...base,
      step: (s, inputs, ctx) => { if (what === 'step' && fails(ctx.frame)) throw new Error('bug in step'); return base.step(s, inputs, ctx); },
      // The state at `frame` has summed the frames before it (WalkState.frames).
      serialize: (s) => { if (what === 'serialize' && fails(s.frames === (frame * (frame - 1)) / 2 ? frame : -1)) throw new Error('bug in serialize'); return base.serialize(s); },
    });
  }

  it.each([
    ['step throws on b only', 'step', ['b']],
    ['step throws on every peer', 'step', ['a', 'b']],
    ['serialize (hashing frame 30) throws on b only', 'serialize', ['b']],
  ] as const)('%s: that peer stops (game-error) and leaves; nobody stalls on it for good', async (_, what, on) => {
    const n = net(32);
    const rooms = await connect(n, ['a', 'b']);
    const logs: string[] = [];
    const stopped: string[][] = [[], []];
    const left: Array<Array<LockstepEvents['player-left']>> = [[], []];
    const sessions = rooms.map((room, i) => {
      const s: Walk = createLockstepSession({
        room, game: failingGame(room.selfId, [...on], what, 30), clock: n.clock, log: (m) => logs.push(`${room.selfId}: ${m}`),
        input: () => scriptedButtons(s.frame, i),
      }) as Walk;
      s.on('stopped', ({ reason }) => stopped[i]!.push(reason));
      s.on('player-left', (e) => left[i]!.push(e));
      return s;
    });
    await n.advance(200);
    sessions[0]!.start({ seed: 5 });
    await n.advance(5000);
    expect(logs.filter((l) => l.includes('tick failed'))).toEqual([]);
    if (on.length === 1) {
      expect(stopped).toEqual([[], ['game-error']]);
      expect(sessions.map((s) => s.status)).toEqual(['running', 'stopped']);
      expect(sessions[1]!.frame).toBe(30);
      expect(left[0]!.map((e) => e.peer)).toEqual(['b']);
      expect(sessions[0]!.frame).toBeGreaterThan(200); // a plays on alone
    } else {
      expect(stopped).toEqual([['game-error'], ['game-error']]);
      expect(sessions.map((s) => [s.status, s.frame])).toEqual([['stopped', 30], ['stopped', 30]]);
    }
  });
  it('serialize throwing on the start frame (hashed before started) stops that peer too, and the others play on', async () => {
    const n = net(33);
    const rooms = await connect(n, ['a', 'b']);
    const events: string[][] = [[], []];
    const sessions = rooms.map((room, i) => {
      const s: Walk = createLockstepSession({
        room, game: failingGame(room.selfId, ['b'], 'serialize', 0), clock: n.clock, log: () => {},
        input: () => scriptedButtons(s.frame, i),
      }) as Walk;
      s.on('started', () => events[i]!.push('started'));
      s.on('stopped', ({ reason }) => events[i]!.push(`stopped ${reason}`));
      s.on('player-left', ({ peer }) => events[i]!.push(`left ${peer}`));
      return s;
    });
    await n.advance(200);
    sessions[0]!.start({ seed: 5 });
    await n.advance(5000);
    expect(events).toEqual([['started', 'left b'], ['stopped game-error']]);
    expect(sessions[0]!.frame).toBeGreaterThan(200);
  });
});
