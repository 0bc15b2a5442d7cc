/**
 * The `input` option is read once for each tick that gives this player new input frames,
 * so a value it returns (a latched key tap) always reaches the game. While the session
 * waits for another player, ticks give no new frames: an input read then and replaced by
 * the next read before any frame took it was lost.
 */
import { describe, expect, it } from 'vitest';
import { createLockstepSession } from '../../src/index.js';
import { buttons, makeWalkGame } from './games.js';
import { advanceUntil, connect, net, type Walk } from './support/memory-sessions.js';

describe('input sampling', () => {
  it('an input read while the session waits for another player still goes into a frame', async () => {
    const n = net(11);
    const [ra, rb] = await connect(n, ['a', 'b']);
    const neutral = buttons.neutral;
    /** Player a taps `up` exactly once: the first read after `tapAt`. */
    let tapAt = Infinity;
    let reads = 0;
    let readsWhileStalled = 0;
    let stalled = false;
    const a: Walk = createLockstepSession({
      room: ra!, game: makeWalkGame(), clock: n.clock, inputDelay: 2, log: () => {},
      input: () => {
        reads++;
        if (stalled) readsWhileStalled++;
        if (n.clock.now() < tapAt) return neutral;
        tapAt = Infinity;
        return { ...neutral, up: true };
      },
    }) as Walk;
    const b: Walk = createLockstepSession({ room: rb!, game: makeWalkGame(), clock: n.clock, inputDelay: 2, log: () => {}, input: () => neutral }) as Walk;
    a.start({ seed: 1, players: ['a', 'b'] });
    await advanceUntil(n, () => a.frame > 60 && b.frame > 60, 20_000);
    expect(a.frame).toBeGreaterThan(60);

    // b's inputs stop reaching a: a runs out of frames it may step and waits.
    n.setLink('b', 'a', { loss: 1 });
    const frozenAt = a.frame;
    await advanceUntil(n, () => false, 300);
    expect(a.frame - frozenAt).toBeLessThan(10); // it is waiting now
    stalled = true;
    tapAt = n.clock.now();
    const readsBefore = reads;
    await advanceUntil(n, () => false, 300);
    stalled = false;
    n.setLink('b', 'a', { loss: 0 });
    await advanceUntil(n, () => a.frame > frozenAt + 60 && b.frame > frozenAt + 60, 20_000);

    const ups = a.recording().frames.filter((f) => f.inputs.some((i) => buttons.decode(i).up)).length;
    expect(ups).toBeGreaterThan(0);
    // The waiting ticks read nothing (each read would have taken the tap and thrown it away).
    expect(reads).toBeGreaterThan(readsBefore);
    expect(readsWhileStalled).toBe(0);
    a.leave();
    b.leave();
  });
});
