/** Walk-game sessions on a seeded in-memory network with simulated time, for focused lockstep tests. */
import { expect } from 'vitest';
import { type Clock, ManualClock, createLockstepSession, createMemoryNetwork, type LockstepSession, type MemoryNetwork, type MemoryNetworkOptions, type Room } from '../../../src/index.js';
import { makeWalkGame, scriptedButtons, type WalkState } from '../games.js';

export type Walk = LockstepSession<WalkState, ReturnType<typeof scriptedButtons>>;

/** 20 ms links, no jitter or loss unless asked (`mesh`: mesh options of every peer). */
export function net(seed: number, extra: { latencyMs?: number; jitterMs?: number; loss?: number; mesh?: MemoryNetworkOptions['mesh'] } = {}): MemoryNetwork {
  return createMemoryNetwork({ seed, clock: new ManualClock(), latencyMs: 20, jitterMs: 0, loss: 0, ...extra });
}

export async function connect(n: MemoryNetwork, ids: string[]): Promise<Room[]> {
  const rooms = ids.map((peerId) => n.join('game', { peerId }));
  for (let i = 0; i < 50 && rooms.some((r) => r.peers.size < ids.length - 1); i++) await n.advance(200);
  expect(rooms.map((r) => r.peers.size)).toEqual(ids.map(() => ids.length - 1));
  return rooms;
}

/** A walk-game session playing scripted buttons for `index`; its log lines go to `logs`. `extra.clock` replaces the network's clock for the session only. */
export function walk(room: Room, n: MemoryNetwork, index: number, extra: { spectator?: boolean; clock?: Clock; channel?: string } = {}, logs?: string[]): Walk {
  const s: Walk = createLockstepSession({
    room, game: makeWalkGame(), clock: n.clock, inputDelay: 'auto',
    log: (m) => logs?.push(`${room.selfId}: ${m}`),
    input: () => scriptedButtons(s.frame, index), ...extra,
  }) as Walk;
  return s;
}

/** Players a and b and spectator w in a game a starts with `seed`; resolves once w has reached `wFrame`. */
export async function playersAndSpectator(n: MemoryNetwork, seed: number, logs: string[], wFrame: number): Promise<{ rooms: Room[]; a: Walk; b: Walk; w: Walk }> {
  const rooms = await connect(n, ['a', 'b', 'w']);
  const [a, b] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs)];
  const w = walk(rooms[2]!, n, 2, { spectator: true }, logs);
  await n.advance(200);
  a.start({ seed, players: ['a', 'b'], spectators: ['w'] });
  await advanceUntil(n, () => w.frame >= wFrame, 10_000);
  return { rooms, a, b, w };
}

/**
 * Players `ids` in one room, the first starting a game of `seed` 200 ms in, then `playMs`
 * of play; sessions log to `logs`. `players` is in the order of `ids`.
 */
export async function playing<const T extends readonly string[]>(
  n: MemoryNetwork,
  seed: number,
  ids: T,
  logs: string[],
  playMs = 1000,
): Promise<{ rooms: Room[]; players: { [K in keyof T]: Walk } }> {
  const rooms = await connect(n, [...ids]);
  const players = rooms.map((r, i) => walk(r, n, i, {}, logs));
  await n.advance(200);
  players[0]!.start({ seed });
  await n.advance(playMs);
  return { rooms, players: players as { [K in keyof T]: Walk } };
}

/** Advance simulated time in `step` ms slices until `cond` holds or `maxMs` passed. */
export async function advanceUntil(n: MemoryNetwork, cond: () => boolean, maxMs: number, step = 50): Promise<void> {
  const start = n.clock.now();
  while (!cond() && n.clock.now() - start < maxMs) await n.advance(step);
}

/** Every (frame, hash) the sessions have in common agrees. */
export function expectSameHashes(sessions: Walk[], from: number, to: number): void {
  for (let f = from; f <= to; f++) {
    const hashes = sessions.map((s) => s.hashAt(f)).filter((h) => h !== undefined);
    expect(new Set(hashes).size, `frame ${f}`).toBeLessThanOrEqual(1);
  }
}

/** Every hashed frame in [from, to] is hashed by all of `sessions` alike; returns how many were compared. */
export function expectAgreement(sessions: Walk[], from: number, to: number): number {
  let compared = 0;
  for (let f = Math.ceil(from / 10) * 10; f <= to; f += 10) {
    const hashes = sessions.map((s) => s.hashAt(f));
    expect(hashes.every((h) => h !== undefined && h === hashes[0]), `frame ${f}: ${hashes.join(' ')}`).toBe(true);
    compared++;
  }
  return compared;
}
