/**
 * Knowing that a doc is being destroyed, for the provider and tab sync alike, even when
 * the app's presence listener throws. doc.destroy() destroys an Awareness made on the doc
 * first (y-protocols listened to the doc before anyone else could), and an app 'change'
 * listener that throws there (its UI already torn down) ends doc.destroy() before the
 * doc's other 'destroy' listeners run: whoever waited for those would stay on, serving a
 * destroyed doc. The Awareness says 'destroy' before that change, so this listens there
 * too.
 */
import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';

/**
 * Call `stop` when `doc` is destroyed: at the doc's 'destroy' (`awarenessGoing` false), or
 * already at `awareness`'s 'destroy' within that doc.destroy() (`awarenessGoing` true: the
 * Awareness is being destroyed, so the caller must not destroy it again). It may be called
 * twice (both, when nothing throws): `stop` must be idempotent. Returns the function that
 * stops listening.
 *
 * @example
 * ```ts
 * const off = onDocDestroyed(doc, awareness, (awarenessGoing) => teardown(!awarenessGoing));
 * ```
 */
export function onDocDestroyed(doc: Y.Doc, awareness: Awareness, stop: (awarenessGoing: boolean) => void): () => void {
  const onDoc = () => stop(false);
  const onAwareness = () => {
    if (doc.isDestroyed) stop(true);
  };
  doc.on('destroy', onDoc);
  awareness.on('destroy', onAwareness);
  return () => {
    doc.off('destroy', onDoc);
    awareness.off('destroy', onAwareness);
  };
}
