/**
 * The list of people in the room, from awareness states (each peer's `user` field).
 */
import type { Awareness } from 'y-protocols/awareness';

/** Keep `list` showing everyone present; returns the unsubscribe function. */
export function showPresence(awareness: Awareness, list: HTMLElement): () => void {
  const render = () => {
    list.replaceChildren(
      ...[...awareness.getStates()].flatMap(([clientId, state]) => {
        const user = (state as { user?: { name?: unknown; color?: unknown } }).user;
        if (!user || typeof user.name !== 'string') return [];
        const li = document.createElement('li');
        li.textContent = clientId === awareness.clientID ? `${user.name} (you)` : user.name;
        if (typeof user.color === 'string') li.style.setProperty('--color', user.color);
        return [li];
      }),
    );
  };
  awareness.on('change', render);
  render();
  return () => awareness.off('change', render);
}
