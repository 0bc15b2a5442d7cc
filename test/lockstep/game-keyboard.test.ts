/**
 * The game demo's keyboard, as the session samples it once per tick: a key tapped and
 * released between two ticks still steers (it used to be lost), held keys keep steering,
 * and a lost focus lets go of held keys.
 */
import { describe, expect, it } from 'vitest';
import { bindKeyboard, type KeyTarget } from '../../demos/game/keyboard.js';

/** Just the listener bookkeeping of a window, and a way to fire key events at it. */
function fakeWindow() {
  const listeners = new Map<string, Set<(e: Event) => void>>();
  const target: KeyTarget = {
    addEventListener: (type: string, l: (e: Event) => void) => void (listeners.get(type) ?? listeners.set(type, new Set()).get(type)!).add(l),
    removeEventListener: (type: string, l: (e: Event) => void) => void listeners.get(type)?.delete(l),
  } as KeyTarget;
  const fire = (type: string, code?: string, tagName = 'BODY') => {
    let prevented = false;
    const e = { code, target: { tagName }, preventDefault: () => (prevented = true) } as unknown as Event;
    for (const l of listeners.get(type) ?? []) l(e);
    return prevented;
  };
  return { target, fire, listening: () => [...listeners.values()].reduce((n, s) => n + s.size, 0) };
}

const dirOf = (i: { up: boolean; down: boolean; left: boolean; right: boolean }) =>
  (['up', 'down', 'left', 'right'] as const).filter((d) => i[d]).join(',') || 'none';

describe('game demo keyboard', () => {
  it('a tap between two samples steers for one sample', () => {
    const w = fakeWindow();
    const kb = bindKeyboard(w.target);
    expect(dirOf(kb.sample())).toBe('none');
    w.fire('keydown', 'ArrowLeft');
    w.fire('keyup', 'ArrowLeft');
    expect(dirOf(kb.sample())).toBe('left');
    expect(dirOf(kb.sample())).toBe('none');
    // Fire (boost) too.
    w.fire('keydown', 'Space');
    w.fire('keyup', 'Space');
    expect(kb.sample().fire).toBe(true);
    expect(kb.sample().fire).toBe(false);
  });

  it('a tap while another direction is held wins for one sample, then the held one is back', () => {
    const w = fakeWindow();
    const kb = bindKeyboard(w.target);
    w.fire('keydown', 'KeyW');
    expect(dirOf(kb.sample())).toBe('up');
    w.fire('keydown', 'KeyD');
    w.fire('keyup', 'KeyD');
    expect(dirOf(kb.sample())).toBe('right');
    expect(dirOf(kb.sample())).toBe('up');
  });

  it('held keys steer every sample, the latest pressed first; a blur lets go of them', () => {
    const w = fakeWindow();
    const kb = bindKeyboard(w.target);
    w.fire('keydown', 'ArrowUp');
    w.fire('keydown', 'ArrowLeft');
    w.fire('keydown', 'ShiftLeft');
    for (let i = 0; i < 3; i++) {
      const s = kb.sample();
      expect([dirOf(s), s.fire]).toEqual(['left', true]);
    }
    w.fire('keyup', 'ArrowLeft');
    expect(dirOf(kb.sample())).toBe('up');
    w.fire('blur');
    const s = kb.sample();
    expect([dirOf(s), s.fire]).toEqual(['none', false]);
  });

  it('ignores keys typed into a text field and other keys, and stops listening on dispose', () => {
    const w = fakeWindow();
    const kb = bindKeyboard(w.target);
    expect(w.fire('keydown', 'KeyA', 'INPUT')).toBe(false);
    expect(w.fire('keydown', 'KeyQ')).toBe(false);
    expect(dirOf(kb.sample())).toBe('none');
    expect(w.fire('keydown', 'KeyA')).toBe(true); // the page does not scroll on arrows/WASD
    kb.dispose();
    expect(w.listening()).toBe(0);
  });
});
