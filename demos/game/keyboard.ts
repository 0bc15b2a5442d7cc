/**
 * Keyboard to game input: arrows or WASD steer (the most recently pressed direction that
 * is still held wins), space or shift boosts. Calls `onChange` with the new buttons.
 */
import type { CycleInput } from './light-cycles.js';

type Direction = 'up' | 'down' | 'left' | 'right';
const KEYS: Record<string, Direction | 'fire'> = {
  ArrowUp: 'up', KeyW: 'up', ArrowDown: 'down', KeyS: 'down', ArrowLeft: 'left', KeyA: 'left',
  ArrowRight: 'right', KeyD: 'right', Space: 'fire', ShiftLeft: 'fire', ShiftRight: 'fire',
};

export function bindKeyboard(target: Window, onChange: (input: CycleInput) => void): () => void {
  const held: Direction[] = [];
  let fire = false;
  const emit = () => {
    const dir = held[held.length - 1];
    onChange({ up: dir === 'up', down: dir === 'down', left: dir === 'left', right: dir === 'right', fire });
  };
  const down = (e: KeyboardEvent) => {
    const k = KEYS[e.code];
    if (!k || (e.target as HTMLElement | null)?.tagName === 'INPUT') return;
    e.preventDefault();
    if (k === 'fire') fire = true;
    else if (!held.includes(k)) held.push(k);
    emit();
  };
  const up = (e: KeyboardEvent) => {
    const k = KEYS[e.code];
    if (!k) return;
    if (k === 'fire') fire = false;
    else held.splice(held.indexOf(k) >>> 0, held.includes(k) ? 1 : 0);
    emit();
  };
  // Keys released while the window has no focus never send keyup: let go of all of them.
  const blur = () => {
    held.length = 0;
    fire = false;
    emit();
  };
  target.addEventListener('keydown', down);
  target.addEventListener('keyup', up);
  target.addEventListener('blur', blur);
  return () => {
    target.removeEventListener('keydown', down);
    target.removeEventListener('keyup', up);
    target.removeEventListener('blur', blur);
  };
}
