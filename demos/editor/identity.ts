/**
 * Who this person is in the room: a name (remembered per browser) and a colour, shaped
 * the way y-codemirror.next draws remote cursors (`user: { name, color, colorLight }`).
 *
 * The colour string is unique to this person and this name, not just a palette entry:
 * y-codemirror.next reuses a remote cursor's label when the new cursor's colour string
 * equals the old one's, so two people with the same palette colour showed one name on
 * both cursors, and a rename kept the old label. A random fraction of a degree of hue,
 * drawn again on each rename, keeps the strings apart without a visible difference.
 */
import { readStored, writeStored } from '../shared/page-storage.js';

const HUES = [355, 215, 145, 35, 280, 180, 325, 75];

/** Where the name is remembered (localStorage, so all tabs of this browser share it). */
const NAME_KEY = 'meshparty:name';

export interface Identity {
  name: string;
  color: string;
  colorLight: string;
}

/** The stored identity, or a new random one (`random` in [0, 1), Math.random by default). */
export function loadIdentity(storage: Storage | undefined, random: () => number = Math.random): Identity {
  const name = readStored(storage, NAME_KEY) || `Guest ${Math.floor(random() * 900 + 100)}`;
  return { name, ...colours(HUES[Math.floor(random() * HUES.length)]!, random) };
}

/** The same person under a new name (with a fresh colour string, see the module comment). */
export function renamed(me: Identity, name: string, random: () => number = Math.random): Identity {
  const hue = Math.floor(Number(/hsl\(([\d.]+)/.exec(me.color)?.[1] ?? HUES[0]));
  return { name, ...colours(hue, random) };
}

/**
 * Remember a changed name for the next visit, where the browser lets us: a storage that
 * refuses (full, or no site data allowed) only means the name is not remembered; thrown,
 * it stopped the rename before the others saw it.
 */
export function saveName(storage: Storage | undefined, name: string): void {
  if (!writeStored(storage, NAME_KEY, name) && storage) console.warn('[meshparty editor] the name will not be remembered here');
}

/** The name another tab of this browser just saved, when `event` (a `storage` event) is that; else undefined. */
export function nameSavedElsewhere(event: Pick<StorageEvent, 'key' | 'newValue'>): string | undefined {
  return event.key === NAME_KEY && event.newValue ? event.newValue : undefined;
}

function colours(hue: number, random: () => number): Pick<Identity, 'color' | 'colorLight'> {
  const h = (hue + random() * 0.999).toFixed(6);
  return { color: `hsl(${h} 65% 45%)`, colorLight: `hsl(${h} 65% 45% / 0.2)` };
}
