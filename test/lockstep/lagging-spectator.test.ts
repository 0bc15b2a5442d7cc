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
