/**
 * The document's copy in this browser (y-indexeddb), so a reload, even offline, keeps the
 * text. A browser that lets the site keep no data ("block all cookies / site data", a
 * locked-down profile) refuses IndexedDB: y-indexeddb's `whenSynced` then never resolves
 * (and its own promise chain rejects with no handler), and the page, which joins the room
 * once the stored copy is in, stayed "connecting…" for good. So IndexedDB is tried first
 * with a database of our own; where it is refused the page goes on without a copy.
 */
import type * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';

/** An empty database opened only to learn whether this browser lets the page keep data. */
const PROBE = 'meshparty:can-keep';

export interface LocalCopy {
  /** True once the stored copy is in the document; false when this browser keeps none. */
  loaded: Promise<boolean>;
}

/**
 * Keep `doc` in IndexedDB under `name` (see store-name.ts), loading what is stored there,
 * where the browser allows it (`factory`: the page's `indexedDB`).
 */
export function keepLocalCopy(name: string, doc: Y.Doc, factory: () => IDBFactory = () => indexedDB): LocalCopy {
  const loaded = canKeep(factory).then((can) => (can ? new IndexeddbPersistence(name, doc).whenSynced.then(() => true) : false));
  return { loaded };
}

function canKeep(factory: () => IDBFactory): Promise<boolean> {
  return new Promise((resolve) => {
    const refused = (err: unknown) => {
      console.warn('[meshparty editor] this browser keeps no copy of the text (IndexedDB refused)', err);
      resolve(false);
    };
    try {
      const request = factory().open(PROBE);
      request.onsuccess = () => {
        request.result.close();
        resolve(true);
      };
      request.onerror = () => refused(request.error);
      request.onblocked = () => resolve(true); // another tab upgrading it: IndexedDB works
    } catch (err) {
      refused(err); // no indexedDB at all, or open() throws (a sandboxed frame)
    }
  });
}
