/**
 * Keep a chat log scrolled to its newest line only while the reader is there: someone
 * who scrolled up to read back was thrown to the bottom by every new line.
 */

/** How close to the bottom (px) still counts as reading the newest lines. */
const NEAR_BOTTOM_PX = 24;

/**
 * Run `change` (which adds or redraws lines of `log`), then scroll to the bottom if the
 * reader was at the bottom before it, or if `own` (a line this person just sent).
 *
 * @example
 * ```ts
 * followLog(log, () => log.append(line), false);
 * ```
 */
export function followLog(log: HTMLElement, change: () => void, own = false): void {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight <= NEAR_BOTTOM_PX;
  const keptTop = log.scrollTop;
  change();
  if (atBottom || own) log.scrollTop = log.scrollHeight;
  else log.scrollTop = keptTop; // a redraw (replaceChildren) would otherwise reset it
}
