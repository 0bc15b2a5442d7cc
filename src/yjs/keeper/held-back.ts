/**
 * Storing what Yjs holds back. An update whose dependencies a document lacks (an edit
 * made after one from a peer whose own message has not reached us, or never will: that
 * peer cannot connect to us) is kept by Yjs as *pending* and fires no `update` event, so
 * a log fed by that event alone would not hold it: a restart would lose an edit the
 * keeper had received, though it may be the only copy left once its author goes. Here
 * the peer's message itself is written whenever the document holds something back after
 * applying it; writing an update twice is harmless (Yjs applies it once).
 */
import * as Y from 'yjs';
import type { Channel } from '../../mesh/types.js';
import { YjsTag, decodeYjsMessage } from '../protocol.js';

/**
 * Append to `append` every update received on `channel` that leaves `doc` holding
 * something back. Subscribe after the provider of `doc` on `channel`, so a message has
 * been applied when this sees it. Returns the unsubscribe.
 *
 * @example
 * ```ts
 * const provider = createYjsProvider(room, doc, { name });
 * const off = keepHeldBack(room.channel(docChannelName(name)), doc, (u) => log.append(u));
 * ```
 */
export function keepHeldBack(channel: Channel, doc: Y.Doc, append: (update: Uint8Array) => void): () => void {
  return channel.on('message', ({ data }) => {
    if (!doc.store.pendingStructs && !doc.store.pendingDs) return; // the usual case: nothing decoded twice
    const decoded = decodeYjsMessage(data);
    if (!decoded.ok) return;
    const m = decoded.message;
    if (m.tag === YjsTag.SyncStep2 || m.tag === YjsTag.Update) append(m.update);
  });
}
