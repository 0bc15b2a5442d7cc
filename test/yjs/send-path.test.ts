/**
 * Latency of the send path: an edit made while a peer's channel is idle must reach the
 * transport inside the edit's own call (no timer, microtask or promise hop), while
 * edits made while a message is in flight are merged.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { PeerOutbox, type OutboxSink } from '../../src/yjs/outbox.js';
import { YjsTag, decodeYjsMessage, encodeUpdate } from '../../src/yjs/protocol.js';
import { createYjsProvider } from '../../src/yjs/provider.js';

function sink(queued = () => 0) {
  const sent: Uint8Array[] = [];
  const pending: Array<() => void> = [];
  const s: OutboxSink = {
    send: (bytes) => {
      sent.push(bytes);
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    queuedBytes: queued,
  };
  return { s, sent, pending };
}

const update = (text: string) => {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
};

describe('send path latency', () => {
  it('an update on an idle outbox is handed to the sink inside the call', () => {
    const clock = new ManualClock();
    const { s, sent } = sink();
    const outbox = new PeerOutbox(s, clock, { messages: 0, bytes: 0 }, () => {});
    outbox.update(update('a'));
    expect(sent).toHaveLength(1);
    const m = decodeYjsMessage(sent[0]!);
    expect(m.ok && m.message.tag).toBe(YjsTag.Update);
  });

  it('an update goes out as the message its caller encoded; updates merged later are encoded anew', async () => {
    const clock = new ManualClock();
    const { s, sent, pending } = sink();
    const outbox = new PeerOutbox(s, clock, { messages: 0, bytes: 0 }, () => {});
    const messageOf = (u: Uint8Array) => encodeUpdate(YjsTag.Update, u);
    const a = messageOf(update('a'));
    outbox.update(update('a'), () => a);
    expect(sent[0]).toBe(a);
    // While `a` is in flight, `b` and `c` pile up: their own messages must not be sent alone.
    const b = update('b');
    const c = update('c');
    outbox.update(b, () => messageOf(b));
    outbox.update(c, () => messageOf(c));
    pending.shift()!();
    await Promise.resolve();
    await Promise.resolve();
    const merged = decodeYjsMessage(sent[1]!);
    if (!merged.ok || merged.message.tag !== YjsTag.Update) throw new Error('expected an update');
    const doc = new Y.Doc();
    Y.applyUpdate(doc, merged.message.update);
    expect(doc.getText('t').length).toBe(2);
  });

  it('updates made while one is in flight leave as one merged message once it is handed over', async () => {
    const clock = new ManualClock();
    const { s, sent, pending } = sink();
    const outbox = new PeerOutbox(s, clock, { messages: 0, bytes: 0 }, () => {});
    outbox.update(update('a'));
    outbox.update(update('b'));
    outbox.update(update('c'));
    expect(sent).toHaveLength(1);
    pending.shift()!();
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toHaveLength(2);
    const merged = decodeYjsMessage(sent[1]!);
    if (!merged.ok || merged.message.tag !== YjsTag.Update) throw new Error('expected an update');
    const doc = new Y.Doc();
    Y.applyUpdate(doc, merged.message.update);
    expect(doc.getText('t').length).toBe(2);
  });

  it('over the mesh, one edit reaches every peer’s transport before the edit returns', async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 3, clock, mesh: { logger: silentLogger() } });
    const rooms = Array.from({ length: 8 }, (_, i) => net.join('r', { peerId: `p${i}` }));
    const docs = rooms.map(() => new Y.Doc());
    // What the first provider hands its document channel, message by message.
    const docSends: Uint8Array[] = [];
    const openChannel = rooms[0]!.channel.bind(rooms[0]);
    rooms[0]!.channel = (name, o) => {
      const ch = openChannel(name, o);
      if (name !== 'yjs:d') return ch;
      const send = ch.send.bind(ch);
      ch.send = (to, data) => (docSends.push(data), send(to, data));
      return ch;
    };
    const providers = rooms.map((room, i) => createYjsProvider(room, docs[i]!, { name: 'd', clock, log: () => {} }));
    await net.advance(2000);
    expect(providers.every((p) => p.synced && p.idle)).toBe(true);
    expect(net.wire.pending).toBe(0);
    docSends.length = 0;
    docs[0]!.getMap('m').set('k', 1);
    // Zero-latency memory links queue one delivery per frame handed to the transport.
    expect(net.wire.pending).toBe(7);
    // The edit was encoded once: every peer was handed the same message.
    expect(new Set(docSends).size).toBe(1);
    expect(docSends).toHaveLength(7);
    await net.advance(10);
    expect(docs.every((d) => d.getMap('m').get('k') === 1)).toBe(true);
    await Promise.all(rooms.map((r) => r.leave()));
  });
});
