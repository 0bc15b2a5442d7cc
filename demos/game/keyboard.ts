/**
 * Keyboard to game input: arrows or WASD steer (the most recently pressed direction wins
 * while it is held), space or shift boosts. The latching of taps between ticks is the
 * steering's (steering.ts).
 */
import type { CycleInput } from './light-cycles.js';
import { createSteering, type Control, type Steering } from './steering.js';

const KEYS: Record<string, Control> = {
  ArrowUp: 'up', KeyW: 'up', ArrowDown: 'down', KeyS: 'down', ArrowLeft: 'left', KeyA: 'left',
  ArrowRight: 'right', KeyD: 'right', Space: 'fire', ShiftLeft: 'fire', ShiftRight: 'fire',
};

/** The keyboard as the session reads it. */
export interface Keyboard {
  /** The input for the tick being sampled (see Steering.sample). */
  sample(): CycleInput;
  /** Stop listening. */
  dispose(): void;
}

/** The window-like object the keyboard listens on (a `Window` in the page, a stub in tests). */
export type KeyTarget = Pick<Window, 'addEventListener' | 'removeEventListener'>;

/**
 * Listen for steering keys on `target`, into `steering` (shared with other controls);
 * pass `sample` to the session as its `input`.
 *
 * @example
 * ```ts
 * const keyboard = bindKeyboard(window);
 * const session = createLockstepSession({ room, game: lightCycles, input: keyboard.sample });
 * ```
 */
export function bindKeyboard(target: KeyTarget, steering: Steering = createSteering()): Keyboard {
  const down = (e: Event) => {
    const k = KEYS[(e as KeyboardEvent).code];
    if (!k || (e.target as HTMLElement | null)?.tagName === 'INPUT') return;
    e.preventDefault();
    steering.press(k);
  };
  const up = (e: Event) => {
    const k = KEYS[(e as KeyboardEvent).code];
    if (k) steering.release(k);
  };
  // Keys released while the window has no focus never send keyup: let go of all of them.
  const blur = () => steering.releaseAll();
  target.addEventListener('keydown', down);
  target.addEventListener('keyup', up);
  target.addEventListener('blur', blur);
  return {
    sample: () => steering.sample(),
    dispose() {
      target.removeEventListener('keydown', down);
      target.removeEventListener('keyup', up);
      target.removeEventListener('blur', blur);
    },
  };
}
