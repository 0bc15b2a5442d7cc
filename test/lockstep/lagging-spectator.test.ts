import { describe, expect, it } from 'vitest';
import { advanceUntil, connect, expectSameHashes, net, walk } from './support/memory-sessions.js';

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

describe('a player leaves while a spectator lags far behind', () => {
  it('the players drop it without waiting for the spectator, which then catches up from the drop and agrees', async () => {
    const n = net(32);
    const rooms = await connect(n, ['a', 'b', 'c', 'w']);
    const [a, b, c] = [0, 1, 2].map((i) => walk(rooms[i]!, n, i));
    const w = walk(rooms[3]!, n, 3, { spectator: true });
    const left: Record<string, number[]> = { a: [], w: [] };
    a!.on('player-left', (e) => left.a!.push(e.atFrame));
    w.on('player-left', (e) => left.w!.push(e.atFrame));
    await n.advance(200);
    a!.start({ seed: 6 });
    await advanceUntil(n, () => w.frame >= 120, 30_000);
    for (const p of ['a', 'b', 'c']) n.setLink(p, 'w', { loss: 1 });
    await n.advance(5000);
    for (const p of ['a', 'b', 'c']) n.setLink(p, 'w', { loss: 0 });
    // c leaves the game (not the room) just as the spectator's packets get through again:
    // the spectator still lacks 300 frames of c's inputs, more than a report carries.
    c!.leave();
    const target = a!.frame + 300;
    await advanceUntil(n, () => a!.frame >= target && b!.frame >= target, 20_000);
    expect([...a!.players]).toEqual(['a', 'b']);
    expect([a!.frame >= target, b!.frame >= target]).toEqual([true, true]);
    await advanceUntil(n, () => w.frame >= target, 20_000);
    expect({ status: w.status, players: [...w.players], frame: w.frame >= target }).toEqual({ status: 'running', players: ['a', 'b'], frame: true });
    expect(left.w).toEqual(left.a);
    expectSameHashes([a!, b!, w], 0, target);
    for (const s of [a!, b!, w]) s.leave();
  });
});

describe('a player leaves while a spectator lags further back than a drop hands out', () => {
  it('the players are not held up, and the spectator leaves and is admitted again with a fresh snapshot', async () => {
    const n = net(33);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b', 'c', 'w']);
    const [a, b, c] = [0, 1, 2].map((i) => walk(rooms[i]!, n, i));
    const w = walk(rooms[3]!, n, 3, { spectator: true }, logs);
    const started: number[] = [];
    w.on('started', (e) => started.push(e.frame));
    await n.advance(200);
    a!.start({ seed: 7 });
    await advanceUntil(n, () => w.frame >= 120, 30_000);
    // 12 s without input packets: 720 frames of c's inputs missing, more than DROP_HISTORY.
    for (const p of ['a', 'b', 'c']) n.setLink(p, 'w', { loss: 1 });
    await n.advance(12_000);
    for (const p of ['a', 'b', 'c']) n.setLink(p, 'w', { loss: 0 });
    c!.leave();
    const target = a!.frame + 300;
    await advanceUntil(n, () => a!.frame >= target && b!.frame >= target, 20_000);
    expect([...a!.players]).toEqual(['a', 'b']);
    expect([a!.frame >= target, b!.frame >= target]).toEqual([true, true]);
    await advanceUntil(n, () => started.length === 2 && w.frame >= target + 60, 20_000);
    expect({ status: w.status, started: started.length, frame: w.frame >= target + 60 }).toEqual({ status: 'running', started: 2, frame: true });
    expect(logs.some((l) => /lost for good/.test(l))).toBe(true);
    expectSameHashes([a!, b!, w], started[1]!, target + 60);
    for (const s of [a!, b!, w]) s.leave();
  });
});
