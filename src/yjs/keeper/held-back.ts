/**
 * Storing what Yjs holds back. An update whose dependencies a document lacks (an edit
 * made after one from a peer whose own message has not reached us, or never will: that
 * peer cannot connect to us) is kept by Yjs as *pending* and fires no `update` event, so
 * a log fed by that event alone would not hold it: a restart would lose an edit the
 * keeper had received, though it may be the only copy left once its author goes. Here
 * the peer's message itself is written whenever the document holds something back after
 * applying it; writing an update twice is harmless (Yjs applies it once). Only a message
 * the provider applied: one it dropped (over its limits) or ignored (a blocked peer) is
 * not in the document, and written here it would be applied at the next start.
 */
import * as Y from 'yjs';
import type { Channel } from '../../mesh/types.js';
import { YjsTag, decodeYjsMessage } from '../protocol.js';

/** Limits for a message the provider has already accepted under its own (maybe larger) ones. */
const ACCEPTED = { maxUpdateBytes: Infinity, maxAwarenessBytes: Infinity, maxPresenceClients: Infinity };

/**
 * Append to `append` every update received on `channel` that `provider` (the origin of
 * the transactions it applies peers' updates in) applied and that leaves `doc` holding
 * something back. Subscribe after the provider of `doc` on `channel`, so a message has
 * been applied when this sees it. Returns the unsubscribe.
 *
 * @example
 * ```ts
 * const provider = createYjsProvider(room, doc, { name });
 * const off = keepHeldBack(room.channel(docChannelName(name)), doc, provider, (u) => log.append(u));
 * ```
 */
export function keepHeldBack(channel: Channel, doc: Y.Doc, provider: unknown, append: (update: Uint8Array) => void): () => void {
  // The provider applies a peer's update synchronously in its own listener of the same
  // message, which runs before ours: a transaction of its origin in between is that message's.
  let applied = false;
  const onTransaction = (transaction: Y.Transaction) => {
    if (transaction.origin === provider) applied = true;
  };
  doc.on('afterTransaction', onTransaction);
  const off = channel.on('message', ({ data }) => {
    const ours = applied;
    applied = false;
    if (!ours || (!doc.store.pendingStructs && !doc.store.pendingDs)) return; // the usual case: nothing decoded twice
    const decoded = decodeYjsMessage(data, ACCEPTED);
    if (!decoded.ok) return;
    const m = decoded.message;
    // Forwarded ones too: an author that cannot connect to us reaches us only that way.
    if (m.tag === YjsTag.SyncStep2 || m.tag === YjsTag.Update || m.tag === YjsTag.ForwardedUpdate) append(m.update);
  });
  return () => {
    off();
    doc.off('afterTransaction', onTransaction);
  };
}
