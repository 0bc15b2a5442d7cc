/**
 * The list of people in the room, from awareness states (each peer's `user` field).
 */
import type { Awareness } from 'y-protocols/awareness';
import { safeColor, safeName } from './untrusted.js';

/** People listed at most. */
const MAX_LISTED = 50;

/** Keep `list` showing everyone present; returns the unsubscribe function. */
export function showPresence(awareness: Awareness, list: HTMLElement): () => void {
  const render = () => {
    const people = [...awareness.getStates()].flatMap(([clientId, state]) => {
      const user = (state as { user?: { name?: unknown; color?: unknown } }).user;
      const name = safeName(user?.name);
      if (!name) return [];
      const li = document.createElement('li');
      li.textContent = clientId === awareness.clientID ? `${name} (you)` : name;
      const color = safeColor(user?.color);
      if (color) li.style.setProperty('--color', color);
      return [li];
    });
    // One peer may claim thousands of clients: show a readable list, and how many more.
    const more = people.length - MAX_LISTED;
    if (more > 0) people.splice(MAX_LISTED, more, Object.assign(document.createElement('li'), { textContent: `and ${more} more` }));
    list.replaceChildren(...people);
  };
  awareness.on('change', render);
  render();
  return () => awareness.off('change', render);
}
