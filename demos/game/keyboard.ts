/**
 * Keyboard to game input: arrows or WASD steer (the most recently pressed direction wins
 * while it is held), space or shift boosts.
 *
 * The session samples the input once per tick (`sample()`), not on every key event: a
 * key tapped and released between two ticks (a quick tap is 30-80 ms, a tick at 60 Hz
 * is 17 ms, and a busy page ticks late) would otherwise never be seen. So a press is
 * latched until a tick has sampled it, even if the key is already up.
 */
import type { CycleInput } from './light-cycles.js';

type Direction = 'up' | 'down' | 'left' | 'right';
const KEYS: Record<string, Direction | 'fire'> = {
  ArrowUp: 'up', KeyW: 'up', ArrowDown: 'down', KeyS: 'down', ArrowLeft: 'left', KeyA: 'left',
  ArrowRight: 'right', KeyD: 'right', Space: 'fire', ShiftLeft: 'fire', ShiftRight: 'fire',
};

/** The keyboard as the session reads it. */
export interface Keyboard {
  /**
   * The input for the tick being sampled: the direction pressed last since the previous
   * sample (even if already released), else the most recently pressed of those still held; fire if it was
   * pressed since the previous sample or is held.
   */
  sample(): CycleInput;
  /** Stop listening. */
  dispose(): void;
}

/** The window-like object the keyboard listens on (a `Window` in the page, a stub in tests). */
export type KeyTarget = Pick<Window, 'addEventListener' | 'removeEventListener'>;

/**
 * Listen for steering keys on `target`; pass `sample` to the session as its `input`.
 *
 * @example
 * ```ts
 * const keyboard = bindKeyboard(window);
 * const session = createLockstepSession({ room, game: lightCycles, input: keyboard.sample });
 * ```
 */
export function bindKeyboard(target: KeyTarget): Keyboard {
  const held: Direction[] = [];
  let fireHeld = false;
  /** Pressed since the last sample (latched, even if released since). */
  let tapped: Direction | undefined;
  let fireTapped = false;

  const down = (e: Event) => {
    const k = KEYS[(e as KeyboardEvent).code];
    if (!k || (e.target as HTMLElement | null)?.tagName === 'INPUT') return;
    e.preventDefault();
    if (k === 'fire') {
      fireHeld = fireTapped = true;
      return;
    }
    tapped = k;
    if (!held.includes(k)) held.push(k);
  };
  const up = (e: Event) => {
    const k = KEYS[(e as KeyboardEvent).code];
    if (!k) return;
    if (k === 'fire') fireHeld = false;
    else if (held.includes(k)) held.splice(held.indexOf(k), 1);
  };
  // Keys released while the window has no focus never send keyup: let go of all of them.
  const blur = () => {
    held.length = 0;
    fireHeld = false;
  };
  target.addEventListener('keydown', down);
  target.addEventListener('keyup', up);
  target.addEventListener('blur', blur);
  return {
    sample() {
      const dir = tapped ?? held[held.length - 1];
      const fire = fireHeld || fireTapped;
      tapped = undefined;
      fireTapped = false;
      return { up: dir === 'up', down: dir === 'down', left: dir === 'left', right: dir === 'right', fire };
    },
    dispose() {
      target.removeEventListener('keydown', down);
      target.removeEventListener('keyup', up);
      target.removeEventListener('blur', blur);
    },
  };
}
