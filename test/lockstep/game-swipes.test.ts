/**
 * The game demo's swipes on the arena (demos/game/touch.ts), in Node with a fake surface:
 * a stroke turns the rider, and a mouse button released outside the arena (no pointerup
 * reaches it: a mouse has no implicit capture) ends the stroke, so moving the bare mouse
 * over the arena afterwards steers nothing.
 */
import { describe, expect, it } from 'vitest';
import { bindSwipes } from '../../demos/game/touch.js';
import { createSteering } from '../../demos/game/steering.js';

/** Just the listener bookkeeping of an element, and a way to fire pointer events at it. */
function fakeSurface() {
  const listeners = new Map<string, Set<(e: Event) => void>>();
  const surface = {
    addEventListener: (type: string, l: (e: Event) => void) => void (listeners.get(type) ?? listeners.set(type, new Set()).get(type)!).add(l),
    removeEventListener: (type: string, l: (e: Event) => void) => void listeners.get(type)?.delete(l),
  } as unknown as HTMLElement;
  const fire = (type: string, x: number, y: number, buttons: number, pointerType = 'mouse') => {
    const e = { pointerId: 1, pointerType, clientX: x, clientY: y, buttons, preventDefault: () => {} } as unknown as Event;
    for (const l of listeners.get(type) ?? []) l(e);
  };
  return { surface, fire };
}

const dirOf = (i: { up: boolean; down: boolean; left: boolean; right: boolean }) =>
  (['up', 'down', 'left', 'right'] as const).filter((d) => i[d]).join(',') || 'none';

describe('game demo swipes', () => {
  it('a stroke turns; a mouse released outside the arena leaves no stroke behind for a bare hover', () => {
    const s = fakeSurface();
    const steering = createSteering();
    bindSwipes(s.surface, steering);
    s.fire('pointerdown', 100, 100, 1, 'touch');
    s.fire('pointermove', 140, 100, 1, 'touch');
    expect(dirOf(steering.sample())).toBe('right');
    s.fire('pointerup', 140, 100, 0, 'touch');

    // Button down on the arena, dragged off it and released there: no pointerup here.
    s.fire('pointerdown', 100, 100, 1);
    // Later the mouse, no button held, passes over the arena.
    s.fire('pointermove', 100, 60, 0);
    s.fire('pointermove', 60, 60, 0);
    expect(dirOf(steering.sample())).toBe('none');
    // A new stroke with the button held still steers.
    s.fire('pointerdown', 60, 60, 1);
    s.fire('pointermove', 60, 100, 1);
    expect(dirOf(steering.sample())).toBe('down');
  });
});
