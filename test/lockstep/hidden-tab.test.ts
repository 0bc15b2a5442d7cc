/**
 * A player (or spectator) whose timers fire at most once a second, as a browser runs a
 * hidden tab's, while its network messages arrive at once: it must keep ticking at the
 * pace of the others' packets, so the game does not crawl for everyone. On the in-memory
 * network with simulated time; the throttled peer's session gets a clock whose timers
 * wait for the next whole second.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, createLockstepSession, createMemoryNetwork, type Clock, type LockstepSession, type Room } from '../../src/index.js';
import { makeWalkGame, scriptedButtons, type WalkState } from './games.js';

type Walk = LockstepSession<WalkState, ReturnType<typeof scriptedButtons>>;

/** `inner`'s time, with every timer held until the next whole second (a hidden tab's). */
function hiddenTabClock(inner: ManualClock): Clock {
  return {
    now: () => inner.now(),
    setTimeout: (fn, ms) => inner.setTimeout(fn, Math.max(Math.ceil((inner.now() + ms) / 1000) * 1000 - inner.now(), 0)),
    clearTimeout: (h) => inner.clearTimeout(h),
  };
}

describe('lockstep in a hidden tab', () => {
  for (const role of ['player', 'spectator'] as const) {
    it(`a ${role} whose timers fire once a second keeps up, and the players run at full speed`, async () => {
      const clock = new ManualClock();
      const net = createMemoryNetwork({ seed: 5, clock, latencyMs: 20, jitterMs: 5 });
      const ids = ['a', 'b', 'h'];
      const rooms: Room[] = ids.map((peerId) => net.join('game', { peerId }));
      for (let i = 0; i < 50 && rooms.some((r) => r.peers.size < 2); i++) await net.advance(200);
      const sessions = rooms.map((room, i) => {
        const hidden = ids[i] === 'h';
        const s: Walk = createLockstepSession({
          room,
          game: makeWalkGame(),
          clock: hidden ? hiddenTabClock(clock) : clock,
          inputDelay: 'auto',
          spectator: hidden && role === 'spectator',
          log: () => {},
          input: () => scriptedButtons(s.frame, i),
        }) as Walk;
        return s;
      });
      const [a, , h] = sessions as [Walk, Walk, Walk];
      await net.advance(200);
      a.start({ seed: 3 });
      await net.advance(2000);
      const from = sessions.map((s) => s.frame);
      await net.advance(10_000); // 600 frames at 60 Hz
      const stepped = sessions.map((s, i) => s.frame - from[i]!);
      // Everyone, the hidden peer included, within a few frames of the full 600.
      for (const n of stepped) expect(n).toBeGreaterThan(570);
      expect(Math.abs(h.frame - a.frame)).toBeLessThan(20);
      // And agrees with them (hashed every 10 frames).
      const hashed = Math.min(h.frame, a.frame) - (Math.min(h.frame, a.frame) % 10);
      expect(h.hashAt(hashed)).toBeDefined();
      expect(h.hashAt(hashed)).toBe(a.hashAt(hashed));
      for (const s of sessions) s.leave();
    });
  }
});
