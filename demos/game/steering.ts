/**
 * What a player is pressing, from any control (keyboard, touch pad, swipes), as the
 * session samples it once per tick. A press is latched until a tick has sampled it, even
 * if released since: a tap between two ticks (a quick tap is 30-80 ms, a tick at 60 Hz is
 * 17 ms, and a busy page ticks late) would otherwise never be seen.
 */
import type { CycleInput } from './light-cycles.js';

export type Direction = 'up' | 'down' | 'left' | 'right';
export type Control = Direction | 'fire';

/** The steering state controls feed and the session samples. */
export interface Steering {
  /** A control went down (held until `release`). */
  press(c: Control): void;
  /** A control went up. */
  release(c: Control): void;
  /** A control pressed and released at once (a swipe): seen by the next sample only. */
  tap(c: Control): void;
  /** Let go of everything held (the window lost focus: no key-up will come). */
  releaseAll(): void;
  /**
   * The input for the tick being sampled: the direction pressed last since the previous
   * sample (even if already released), else the most recently pressed of those still
   * held; fire if it was pressed since the previous sample or is held.
   */
  sample(): CycleInput;
}

/**
 * New steering with nothing pressed.
 *
 * @example
 * ```ts
 * const steering = createSteering();
 * bindKeyboard(window, steering);
 * createLockstepSession({ room, game: lightCycles, input: steering.sample });
 * ```
 */
export function createSteering(): Steering {
  const held: Direction[] = [];
  let fireHeld = false;
  /** Pressed since the last sample (latched, even if released since). */
  let tapped: Direction | undefined;
  let fireTapped = false;
  const tap = (c: Control) => {
    if (c === 'fire') fireTapped = true;
    else tapped = c;
  };
  return {
    press(c) {
      tap(c);
      if (c === 'fire') fireHeld = true;
      else if (!held.includes(c)) held.push(c);
    },
    release(c) {
      if (c === 'fire') fireHeld = false;
      else if (held.includes(c)) held.splice(held.indexOf(c), 1);
    },
    tap,
    releaseAll() {
      held.length = 0;
      fireHeld = false;
    },
    sample() {
      const dir = tapped ?? held[held.length - 1];
      const fire = fireHeld || fireTapped;
      tapped = undefined;
      fireTapped = false;
      return { up: dir === 'up', down: dir === 'down', left: dir === 'left', right: dir === 'right', fire };
    },
  };
}
