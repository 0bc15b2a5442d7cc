/**
 * Touch controls for phones and tablets: an on-screen pad (buttons held down like keys)
 * and swipes on the arena (each swipe one turn), both into the same steering as the
 * keyboard. Pointer events, so a pen or a mouse works too; `touch-action: none` (CSS) keeps
 * the browser from scrolling or zooming instead.
 */
import type { Control, Direction, Steering } from './steering.js';

const CONTROLS = new Set<string>(['up', 'down', 'left', 'right', 'fire']);

/** Add each of `handlers` to `target`; returns the function that removes them all. */
function listen(target: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>, handlers: Record<string, (e: PointerEvent) => void>): () => void {
  const entries = Object.entries(handlers) as Array<[string, EventListener]>;
  for (const [type, handler] of entries) target.addEventListener(type, handler);
  return () => {
    for (const [type, handler] of entries) target.removeEventListener(type, handler);
  };
}

/**
 * Each `[data-control]` button in `pad` (up, down, left, right, fire) presses its control
 * while a finger is on it. Returns the function that stops listening.
 *
 * @example
 * ```ts
 * const stop = bindTouchPad(document.getElementById('pad')!, steering);
 * ```
 */
export function bindTouchPad(pad: HTMLElement, steering: Steering): () => void {
  const pressed = new Map<number, Control>();
  const down = (e: PointerEvent) => {
    const control = (e.target as HTMLElement | null)?.closest<HTMLElement>('[data-control]')?.dataset.control;
    if (!control || !CONTROLS.has(control)) return;
    e.preventDefault(); // no focus ring, no text selection, no synthesized mouse events
    (e.target as HTMLElement).setPointerCapture?.(e.pointerId);
    pressed.set(e.pointerId, control as Control);
    steering.press(control as Control);
  };
  const up = (e: PointerEvent) => {
    const control = pressed.get(e.pointerId);
    if (control === undefined) return;
    pressed.delete(e.pointerId);
    if (![...pressed.values()].includes(control)) steering.release(control);
  };
  const noMenu = (e: Event) => e.preventDefault(); // a long press would open the context menu
  const stop = listen(pad, { pointerdown: down, pointerup: up, pointercancel: up, lostpointercapture: up, contextmenu: noMenu });
  return () => {
    stop();
    for (const c of new Set(pressed.values())) steering.release(c);
    pressed.clear();
  };
}

/**
 * A finger moved `minPx` along one axis on `surface`: one turn that way. The swipe goes on
 * from there, so one stroke can turn twice (right, then down). Returns the function that
 * stops listening.
 *
 * @example
 * ```ts
 * const stop = bindSwipes(document.getElementById('arena')!, steering);
 * ```
 */
export function bindSwipes(surface: HTMLElement, steering: Steering, minPx = 24): () => void {
  const from = new Map<number, { x: number; y: number }>();
  const down = (e: PointerEvent) => {
    from.set(e.pointerId, { x: e.clientX, y: e.clientY });
  };
  const move = (e: PointerEvent) => {
    const start = from.get(e.pointerId);
    if (!start) return;
    // Nothing pressed: the stroke ended where we did not hear it (a mouse has no implicit
    // capture, so a button released off the arena sends its pointerup elsewhere), and a
    // bare mouse passing over the arena must not steer.
    if (e.buttons === 0) return void from.delete(e.pointerId);
    const [dx, dy] = [e.clientX - start.x, e.clientY - start.y];
    if (Math.max(Math.abs(dx), Math.abs(dy)) < minPx) return;
    const dir: Direction = Math.abs(dx) >= Math.abs(dy) ? (dx > 0 ? 'right' : 'left') : dy > 0 ? 'down' : 'up';
    steering.tap(dir);
    from.set(e.pointerId, { x: e.clientX, y: e.clientY });
  };
  const end = (e: PointerEvent) => void from.delete(e.pointerId);
  const stop = listen(surface, { pointerdown: down, pointermove: move, pointerup: end, pointercancel: end });
  return () => {
    stop();
    from.clear();
  };
}
