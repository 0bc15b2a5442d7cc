import { describe, expect, it } from 'vitest';
import { advanceUntil, connect, expectSameHashes, net, walk } from './support/memory-sessions.js';

describe('a joiner that hears of a drop before its snapshot', () => {
  it('takes the departures from the snapshot, so the dropped peer can come back with the same id', async () => {
    const n = net(51);
    const rooms = await connect(n, ['a', 'b', 'c']);
    const [a, b, c] = [0, 1, 2].map((i) => walk(rooms[i]!, n, i));
    await n.advance(200);
    a!.start({ seed: 9 });
    await advanceUntil(n, () => [a!, b!, c!].every((s) => s.frame >= 200), 20_000);
    const e = walk(n.join('game', { peerId: 'e' }), n, 4);
    await advanceUntil(n, () => e.status === 'joining', 20_000, 5);
    expect(e.status).toBe('joining');
    // c leaves while e waits for its snapshot: c's drop frame is before e's join frame.
    c!.leave();
    await rooms[2]!.leave();
    await advanceUntil(n, () => e.status === 'running', 20_000, 10);
    await n.advance(1000);
    expect([...e.players].sort()).toEqual(['a', 'b', 'e']);

    // c comes back (same id, fresh session) and is admitted again by the coordinator a.
    const c2 = walk(n.join('game', { peerId: 'c' }), n, 2);
    await advanceUntil(n, () => c2.status === 'running', 20_000);
    const target = Math.max(a!.frame, b!.frame, e.frame) + 300;
    await advanceUntil(n, () => [a!, b!, e, c2].every((s) => s.frame >= target), 20_000);
    expect([a!, b!, e, c2].map((s) => s.frame >= target)).toEqual([true, true, true, true]);
    expect([...e.players]).toEqual([...a!.players]);
    expectSameHashes([a!, b!, e, c2], e.recording().startFrame, target);
    for (const s of [a!, b!, e, c2]) s.leave();
  });
});

describe('two peers admitted at the same join frame', () => {
  it('the one whose snapshot comes late keeps the inputs the other sent it before (no permanent stall)', async () => {
    const n = net(61);
    const rooms = await connect(n, ['a', 'b']);
    const [a, b] = [0, 1].map((i) => walk(rooms[i]!, n, i));
    await n.advance(200);
    a!.start({ seed: 10 });
    await advanceUntil(n, () => [a!, b!].every((s) => s.frame >= 100), 20_000);
    const joins = new Map<string, number>();
    b!.on('player-joined', (x) => joins.set(x.peer, x.atFrame));
    // Two friends open the invite link at the same moment: the coordinator admits both at one frame.
    const e = walk(n.join('game', { peerId: 'e' }), n, 2);
    const f = walk(n.join('game', { peerId: 'f' }), n, 3);
    await advanceUntil(n, () => e.status === 'joining' && f.status === 'joining', 20_000, 2);
    // The coordinator's link to e becomes slow: e's snapshot arrives after f already plays
    // (and after e received and acknowledged f's first inputs).
    n.setLink('a', 'e', { latencyMs: 400 });
    await advanceUntil(n, () => e.status === 'running' && f.status === 'running', 20_000, 10);
    n.setLink('a', 'e', { latencyMs: 20 });
    const target = Math.max(a!.frame, b!.frame) + 300;
    await advanceUntil(n, () => [a!, b!, e, f].every((s) => s.frame >= target), 30_000);
    expect(joins.get('e')).toBe(joins.get('f'));
    expect([a!, b!, e, f].map((s) => s.frame >= target)).toEqual([true, true, true, true]);
    expectSameHashes([a!, b!, e, f], joins.get('e')!, target);
    for (const s of [a!, b!, e, f]) s.leave();
  });
});
