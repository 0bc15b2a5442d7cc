/**
 * Who this person is in the room: a name (remembered per browser) and a colour, shaped
 * the way y-codemirror.next draws remote cursors (`user: { name, color, colorLight }`).
 */
const COLOURS = ['#d33f49', '#3f7cd3', '#2e9e5b', '#c77d14', '#8e44ad', '#16a2a2', '#d3449b', '#5d6d1e'];

export interface Identity {
  name: string;
  color: string;
  colorLight: string;
}

/** The stored identity, or a new random one. */
export function loadIdentity(storage: Storage): Identity {
  const color = COLOURS[Math.floor(Math.random() * COLOURS.length)]!;
  const name = storage.getItem('meshparty:name') || `Guest ${Math.floor(Math.random() * 900 + 100)}`;
  return { name, color, colorLight: `${color}33` };
}

/** Remember a changed name for the next visit. */
export function saveName(storage: Storage, name: string): void {
  storage.setItem('meshparty:name', name);
}
