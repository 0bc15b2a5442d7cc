/**
 * The page's localStorage, read and written so that a browser which lets the site keep
 * no data ("block all cookies / site data", some private modes) costs only what is not
 * remembered: there reading `localStorage` throws a SecurityError, and a full storage
 * throws on `setItem`; either, uncaught at a page's top level, left it blank.
 */

/**
 * The page's localStorage, or undefined where the browser refuses it.
 *
 * @example
 * ```ts
 * const storage = pageStorage(window);
 * const name = readStored(storage, 'meshparty:game:name') ?? 'Rider';
 * ```
 */
export function pageStorage(win: { readonly localStorage: Storage }): Storage | undefined {
  try {
    return win.localStorage;
  } catch {
    return undefined;
  }
}

/** `key`'s value, or null when it is not there or the storage refuses to read. */
export function readStored(storage: Storage | undefined, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

/** Remember `value` under `key` where the storage lets us; returns whether it did. */
export function writeStored(storage: Storage | undefined, key: string, value: string): boolean {
  try {
    if (!storage) return false;
    storage.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}
