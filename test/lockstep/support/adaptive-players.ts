/**
 * Walk-game players for the adaptive input delay tests (adaptive-delay*.test.ts): sessions
 * playing scripted buttons on the memory network, their events recorded with the time.
 */
import { createLockstepSession, type LockstepEvents, type MemoryNetwork, type Room } from '../../../src/index.js';
import { makeWalkGame, scriptedButtons } from '../games.js';
import { connect, net, type Walk } from './memory-sessions.js';

/** Each session's `event`s, with the network clock's time of each. */
export function record<K extends keyof LockstepEvents>(sessions: Walk[], event: K, n: MemoryNetwork): Array<Array<LockstepEvents[K] & { at: number }>> {
  return sessions.map((s) => {
    const list: Array<LockstepEvents[K] & { at: number }> = [];
    s.on(event, (e) => list.push({ ...e, at: n.clock.now() }));
    return list;
  });
}

/** A walk-game session playing scripted buttons for `index`, with the given `inputDelay`. */
export function player(room: Room, n: MemoryNetwork, index: number, inputDelay: number | 'auto'): Walk {
  const s: Walk = createLockstepSession({ room, game: makeWalkGame(), clock: n.clock, inputDelay, log: () => {}, input: () => scriptedButtons(s.frame, index) }) as Walk;
  return s;
}

/** Record delays, stalls and desyncs of `ps`, and have the first start a game of seed 5; 3 s in. */
export async function begin(n: MemoryNetwork, ps: Walk[]) {
  const delays = record(ps, 'input-delay', n);
  const stalls = record(ps, 'stall', n);
  const desyncs = record(ps, 'desync', n);
  await n.advance(200);
  ps[0]!.start({ seed: 5 });
  await n.advance(3000);
  return { ps, delays, stalls, desyncs };
}

/** Three players with `inputDelay` on 20 ms links, 3 s into a game of seed 5 started by a. */
export async function threePlayers(seed: number, inputDelay: number | 'auto') {
  const n = net(seed);
  const ids = ['a', 'b', 'c'] as const;
  const rooms = await connect(n, [...ids]);
  return { n, ids, rooms, ...(await begin(n, rooms.map((r, i) => player(r, n, i, inputDelay)))) };
}
