import { describe, expect, it } from 'vitest';
import { type Walk, advanceUntil, connect, expectSameHashes, net, walk } from './support/memory-sessions.js';

describe('a spectator whose input packets were all lost for a while (reliable channel still up)', () => {
  it('catches up once the loss stops: players resend the oldest unacknowledged inputs first and keep them until acknowledged', async () => {
    const n = net(31);
    const rooms = await connect(n, ['a', 'b', 'w']);
    const [a, b] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
    const w = walk(rooms[2]!, n, 2, { spectator: true });
    await n.advance(200);
    a.start({ seed: 5 });
    await advanceUntil(n, () => w.frame >= 120, 30_000);
    expect(w.frame).toBeGreaterThanOrEqual(120);
    // 12 s of total loss on the links to the spectator: 720 frames, more than one packet
    // holds, and past frame 768 where players first prune inputs older than 512 frames.
    for (const p of ['a', 'b']) n.setLink(p, 'w', { loss: 1 });
    await n.advance(12_000);
    for (const p of ['a', 'b']) n.setLink(p, 'w', { loss: 0 });
    const target = a.frame + 120;
    await advanceUntil(n, () => w.frame >= target, 20_000);
    expect({ a: a.status, w: w.status }).toEqual({ a: 'running', w: 'running' });
    expect(w.frame).toBeGreaterThanOrEqual(target);
    expectSameHashes([a, b, w], 0, target);
    for (const s of [a, b, w]) s.leave();
  });
});

/**
 * Players a, b, c and spectator w play; w hears nothing from the players for `lossMs`;
 * then c leaves the game. Returns once a and b reached 300 frames past that (checked:
 * they were not held up, and c is dropped). `watch` subscribes before the start.
 */
async function lagThenLeave(seed: number, gameSeed: number, lossMs: number, logs: string[], watch: (a: Walk, w: Walk) => void) {
  const n = net(seed);
  const rooms = await connect(n, ['a', 'b', 'c', 'w']);
  const [a, b, c] = [0, 1, 2].map((i) => walk(rooms[i]!, n, i)) as [Walk, Walk, Walk];
  const w = walk(rooms[3]!, n, 3, { spectator: true }, logs);
  watch(a, w);
  await n.advance(200);
  a.start({ seed: gameSeed });
  await advanceUntil(n, () => w.frame >= 120, 30_000);
  for (const p of ['a', 'b', 'c']) n.setLink(p, 'w', { loss: 1 });
  await n.advance(lossMs);
  for (const p of ['a', 'b', 'c']) n.setLink(p, 'w', { loss: 0 });
  c.leave();
  const target = a.frame + 300;
  await advanceUntil(n, () => a.frame >= target && b.frame >= target, 20_000);
  expect([...a.players]).toEqual(['a', 'b']);
  expect([a.frame >= target, b.frame >= target]).toEqual([true, true]);
  return { n, a, b, w, target };
}

describe('a player leaves while a spectator lags far behind', () => {
  it('the players drop it without waiting for the spectator, which then catches up from the drop and agrees', async () => {
    const left = { a: [] as number[], w: [] as number[] };
    // c leaves the game (not the room) just as the spectator's packets get through again:
    // the spectator still lacks 300 frames of c's inputs, more than a report carries.
    const { n, a, b, w, target } = await lagThenLeave(32, 6, 5000, [], (a, w) => {
      a.on('player-left', (e) => left.a.push(e.atFrame));
      w.on('player-left', (e) => left.w.push(e.atFrame));
    });
    await advanceUntil(n, () => w.frame >= target, 20_000);
    expect({ status: w.status, players: [...w.players], frame: w.frame >= target }).toEqual({ status: 'running', players: ['a', 'b'], frame: true });
    expect(left.w).toEqual(left.a);
    expectSameHashes([a, b, w], 0, target);
    for (const s of [a, b, w]) s.leave();
  });
});

describe('a player leaves while a spectator lags further back than a drop hands out', () => {
  it('the players are not held up, and the spectator leaves and is admitted again with a fresh snapshot', async () => {
    const logs: string[] = [];
    const started: number[] = [];
    const rejoins: string[] = [];
    // 12 s without input packets: 720 frames of c's inputs missing, more than DROP_HISTORY.
    const { n, a, b, w, target } = await lagThenLeave(33, 7, 12_000, logs, (_a, w) => {
      w.on('started', (e) => started.push(e.frame));
      w.on('rejoining', (e) => rejoins.push(e.reason.code));
    });
    await advanceUntil(n, () => started.length === 2 && w.frame >= target + 60, 20_000);
    expect({ status: w.status, started: started.length, frame: w.frame >= target + 60 }).toEqual({ status: 'running', started: 2, frame: true });
    expect(logs.some((l) => /lost for good/.test(l))).toBe(true);
    expect(rejoins).toEqual(['inputs-lost']);
    expectSameHashes([a, b, w], started[1]!, target + 60);
    for (const s of [a, b, w]) s.leave();
  });
});
