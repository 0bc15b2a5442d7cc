/**
 * A refused send. `queue-full` (the peer's connection queue is at its bound) passes, so
 * the outbox keeps the message and tries again with a backoff: sync messages in their
 * order, refused updates merged with later edits. Any other refusal is final for that
 * message and reported (`send-failed`), never silent. No retry timer outlives destroy().
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { MeshpartyError } from '../../src/util/errors.js';
import { DRAIN_FOR_MS, MAX_FORWARDED_PRESENCE_PER_SENDER, PeerOutbox, type OutboxFailure, type OutboxSink } from '../../src/yjs/outbox.js';
import { Step1Kind, YjsTag, decodeYjsMessage, encodeSyncStep1, encodeUpdate } from '../../src/yjs/protocol.js';
import { createYjsProvider, type YjsProviderEvents } from '../../src/yjs/provider.js';
import { FakeHub } from './fake-room.js';

const queueFull = () => new MeshpartyError('queue-full', 'send queue holds too much');

/** A sink whose sends wait until the test settles them, one by one, in order. */
function sink() {
  const sent: Uint8Array[] = [];
  const settle: Array<(err?: Error) => void> = [];
  const s: OutboxSink = {
    send: (bytes) => {
      sent.push(bytes);
      return new Promise<void>((resolve, reject) => settle.push((err) => (err ? reject(err) : resolve())));
    },
    queuedBytes: () => 0,
  };
  /** Settle the oldest send and let the outbox react. */
  const next = async (err?: Error) => {
    settle.shift()!(err);
    for (let i = 0; i < 3; i++) await Promise.resolve();
  };
  return { s, sent, next };
}

function outbox() {
  const clock = new ManualClock();
  const failures: OutboxFailure[] = [];
  const { s, sent, next } = sink();
  const box = new PeerOutbox(s, clock, { messages: 0, bytes: 0 }, (f) => failures.push(f));
  return { clock, failures, sent, next, box };
}

const update = (text: string) => {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
};

const textOf = (message: Uint8Array) => {
  const m = decodeYjsMessage(message);
  if (!m.ok || (m.message.tag !== YjsTag.Update && m.message.tag !== YjsTag.SyncStep2 && m.message.tag !== YjsTag.ForwardedUpdate)) throw new Error('expected an update');
  const doc = new Y.Doc();
  Y.applyUpdate(doc, m.message.update);
  return doc.getText('t').toString();
};

describe('outbox: refused sends', () => {
  it('keeps a sync message refused with queue-full and sends it again, still before the messages queued after it', async () => {
    const { clock, failures, sent, next, box } = outbox();
    const step2 = encodeUpdate(YjsTag.SyncStep2, update('doc'));
    const recheck = encodeSyncStep1(Step1Kind.Recheck, new Uint8Array([0]));
    box.control(step2);
    box.control(recheck);
    box.update(update('x'));
    await next(queueFull());
    expect(failures).toEqual([{ error: expect.objectContaining({ code: 'queue-full' }), kind: 'sync', retryInMs: 50 }]);
    expect(box.idle).toBe(false);
    clock.advance(49);
    expect(sent).toHaveLength(1); // waits out the backoff
    clock.advance(1);
    expect(sent[1]).toBe(step2);
    await next();
    expect(sent[2]).toBe(recheck);
    await next();
    expect(textOf(sent[3]!)).toBe('x');
    await next();
    expect(box.idle).toBe(true);
  });

  it('merges a refused update back with the edits made meanwhile', async () => {
    const { clock, sent, next, box } = outbox();
    box.update(update('a'));
    box.update(update('b')); // waits while `a` is in flight
    await next(queueFull()); // `a` refused
    box.update(update('c'));
    clock.advance(50);
    expect(sent).toHaveLength(2);
    expect(textOf(sent[1]!).split('').sort().join('')).toBe('abc');
    await next();
    expect(box.idle).toBe(true);
  });

  it('backs off 50, 100, 200 ms... on refusals in a row, reports only the first, and starts over after a send goes through', async () => {
    const { clock, failures, sent, next, box } = outbox();
    box.update(update('a'));
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      await next(queueFull());
      const before = sent.length;
      const start = clock.now();
      for (let ms = 0; sent.length === before && ms < 5000; ms++) clock.advance(1);
      times.push(clock.now() - start);
    }
    expect(times).toEqual([50, 100, 200, 400]);
    expect(failures).toHaveLength(1);
    await next();
    box.update(update('b'));
    await next(queueFull());
    expect(failures.map((f) => f.retryInMs)).toEqual([50, 50]);
  });

  it('gives up a message on a final refusal, reports it, and sends the rest', async () => {
    const { clock, failures, sent, next, box } = outbox();
    box.control(encodeUpdate(YjsTag.SyncStep2, update('huge')));
    box.update(update('small'));
    await next(new MeshpartyError('message-too-large', 'too large'));
    expect(failures).toEqual([{ error: expect.objectContaining({ code: 'message-too-large' }), kind: 'sync' }]);
    expect(sent).toHaveLength(2); // the update went at once, no retry of the step 2
    expect(textOf(sent[1]!)).toBe('small');
    await next();
    clock.advance(10_000);
    expect(sent).toHaveLength(2);
    expect(box.idle).toBe(true);
  });

  it('splits a merged update refused as too large and sends its parts, reporting nothing; one update too large alone is given up', async () => {
    const { failures, sent, next, box } = outbox();
    const tooLarge = () => new MeshpartyError('message-too-large', 'too large');
    box.update(update('a')); // in flight
    ['b', 'c', 'd', 'e'].forEach((t) => box.update(update(t))); // merged while `a` is
    await next();
    expect(textOf(sent[1]!).split('').sort().join('')).toBe('bcde');
    await next(tooLarge()); // bcde: split in halves
    expect(textOf(sent[2]!).split('').sort().join('')).toBe('bc');
    await next(tooLarge()); // bc: split again
    expect(textOf(sent[3]!)).toBe('b');
    await next();
    expect(textOf(sent[4]!)).toBe('c');
    await next();
    expect(sent.slice(5).map(textOf)).toEqual(['d']); // still one at a time until the backlog is out
    await next();
    expect(sent.slice(6).map(textOf)).toEqual(['e']);
    await next();
    expect(failures).toEqual([]);
    expect(box.idle).toBe(true);
    box.update(update('f')); // the backlog is out: one update alone too large is final
    await next(tooLarge());
    expect(failures).toEqual([{ error: expect.objectContaining({ code: 'message-too-large' }), kind: 'update' }]);
    expect(box.idle).toBe(true);
  });

  it('keeps the split of forwarded updates and of its own apart: one queue\'s backlog going out does not lift the other\'s limit', async () => {
    const { failures, sent, next, box } = outbox();
    const tooLarge = () => new MeshpartyError('message-too-large', 'too large');
    const letters = (m: Uint8Array) => textOf(m).split('').sort().join('');
    box.update(update('x')); // in flight
    ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].forEach((t) => box.forwardUpdate(update(t)));
    await next();
    expect(letters(sent[1]!)).toBe('bcdefghi');
    await next(tooLarge()); // the forwarded merge: split in halves
    expect(letters(sent[2]!)).toBe('bcde');
    ['j', 'k'].forEach((t) => box.forwardUpdate(update(t))); // more to pass on meanwhile
    ['p', 'q', 'r', 's', 't'].forEach((t) => box.update(update(t))); // and our own edits, more than 4
    await next();
    // Our own merge freely (nothing of ours was too large), and their going out leaves
    // the forwarded backlog at 4 a message until it is out.
    expect(sent.slice(3).map(letters)).toEqual(['pqrst']);
    await next();
    expect(sent.slice(4).map(letters)).toEqual(['fghi']);
    await next();
    expect(sent.slice(5).map(letters)).toEqual(['jk']);
    await next();
    expect(sent.slice(3).map((m) => m[0])).toEqual([YjsTag.Update, YjsTag.ForwardedUpdate, YjsTag.ForwardedUpdate]);
    expect(failures).toEqual([]);
    expect(box.idle).toBe(true);
  });

  it('keeps at most MAX_FORWARDED_PRESENCE_PER_SENDER forwarded presence messages of one sender waiting, its newest; other senders\' stay', async () => {
    const { sent, next, box } = outbox();
    box.update(update('x')); // in flight: the rest waits
    // A hostile sender makes a client and removes it, over and over: a new set of clients each time.
    for (let i = 0; i < 40; i++) box.forwardPresence(new Uint8Array([YjsTag.ForwardedAwareness, 1, i]), `presence:e:${i}`, 'e');
    box.forwardPresence(new Uint8Array([YjsTag.ForwardedAwareness, 2, 0]), 'presence:f:1', 'f');
    box.forwardPresence(new Uint8Array([YjsTag.ForwardedAwareness, 1, 39]), 'presence:e:39', 'e'); // same key: replaces, no eviction
    while (!box.idle) await next();
    const fromE = sent.filter((m) => m[1] === 1).map((m) => m[2]);
    expect(fromE).toEqual(Array.from({ length: MAX_FORWARDED_PRESENCE_PER_SENDER }, (_, k) => 40 - MAX_FORWARDED_PRESENCE_PER_SENDER + k));
    expect(sent.filter((m) => m[1] === 2)).toHaveLength(1);
  });

  it('drainAndClose() hands the sync answers and updates still queued over at once, retries queue-full, then closes; step 1s and presence are dropped', async () => {
    const { clock, failures, sent, next, box } = outbox();
    box.update(update('a')); // in flight
    box.control(encodeSyncStep1(Step1Kind.Hello, new Uint8Array([0])));
    box.control(encodeUpdate(YjsTag.SyncStep2, update('s')), 'step2');
    box.update(update('b'));
    box.awareness(() => new Uint8Array([3, 0]));
    box.drainAndClose();
    box.update(update('late')); // nothing new is taken
    expect(sent.map((m) => m[0])).toEqual([YjsTag.Update, YjsTag.SyncStep2, YjsTag.Update]);
    expect(sent.map(textOf)).toEqual(['a', 's', 'b']);
    await next(queueFull()); // the update that was in flight is kept
    await next();
    await next();
    expect(failures).toEqual([{ error: expect.objectContaining({ code: 'queue-full' }), kind: 'update', retryInMs: 50 }]);
    expect(box.idle).toBe(false);
    clock.advance(50);
    expect(sent.slice(3).map(textOf)).toEqual(['a']);
    await next();
    expect(box.idle).toBe(true);
    expect(clock.pending).toBe(0);
    expect(failures).toHaveLength(1);
  });

  it('drainAndClose() gives a message up, reported, once its peer\'s queue has been full for DRAIN_FOR_MS', async () => {
    const { clock, failures, next, box } = outbox();
    box.update(update('a'));
    box.drainAndClose();
    await next(queueFull());
    clock.advance(DRAIN_FOR_MS - 1);
    await next(queueFull()); // retried until then
    expect(failures).toEqual([{ error: expect.objectContaining({ code: 'queue-full' }), kind: 'update', retryInMs: 50 }]);
    clock.advance(2000);
    await next(queueFull());
    expect(failures[1]).toEqual({ error: expect.objectContaining({ code: 'queue-full' }), kind: 'update' });
    expect(box.idle).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('drainAndClose(goodbye) sends the goodbye last and retries it on queue-full, never the presence refused before it', async () => {
    const { clock, sent, next, box } = outbox();
    const stale = new Uint8Array([YjsTag.Awareness, 1]);
    const goodbye = new Uint8Array([YjsTag.Awareness, 2]);
    box.awareness(() => stale); // in flight
    box.update(update('a'));
    box.drainAndClose(goodbye);
    expect(sent.slice(1).map((m) => m[0])).toEqual([YjsTag.Update, YjsTag.Awareness]);
    expect(sent[2]).toBe(goodbye);
    await next(queueFull()); // the old presence: dropped, not sent after the goodbye
    await next();
    await next(queueFull()); // the goodbye: kept
    clock.advance(50);
    expect(sent.slice(3)).toEqual([goodbye]);
    await next();
    expect(box.idle).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('drainAndClose(goodbye) reports nothing when the goodbye\'s connection is gone (destroy() then room.leave())', async () => {
    const { failures, next, box } = outbox();
    box.drainAndClose(new Uint8Array([YjsTag.Awareness, 2]));
    await next(new MeshpartyError('peer-left', 'gone'));
    expect(failures).toEqual([]);
    expect(box.idle).toBe(true);
  });

  it('reports nothing and keeps no timer once closed', async () => {
    const { clock, failures, next, box } = outbox();
    box.update(update('a'));
    await next(queueFull());
    expect(clock.pending).toBe(1);
    box.close();
    expect(clock.pending).toBe(0);
    const second = outbox();
    second.box.update(update('a'));
    second.box.close();
    await second.next(new MeshpartyError('peer-left', 'gone'));
    expect(second.failures).toEqual([]);
    expect(failures).toHaveLength(1);
  });
});

/** A simulated network with 16 KiB frames and small queues, so a peer's queue fills up (queue-full) quickly. */
function smallFramesNet(clock: ManualClock, maxQueuedBytes: number) {
  return createMemoryNetwork({
    seed: 3,
    clock,
    latencyMs: 20,
    maxMessageSize: 16 * 1024,
    lowWaterMark: 16 * 1024,
    mesh: { logger: silentLogger(), highWaterMarkBytes: 64 * 1024, maxQueuedBytes },
  });
}

describe('provider: refused sends', () => {
  it('still syncs a document whose step 2 the mesh refused with queue-full', async () => {
    const clock = new ManualClock();
    const net = smallFramesNet(clock, 1024 * 1024);
    const a = net.join('r', { peerId: 'a' });
    const names = ['one', 'two'];
    const docs = names.map((_, i) => {
      const doc = new Y.Doc();
      doc.getText('t').insert(0, String(i).repeat(700_000));
      return doc;
    });
    const logs: string[] = [];
    const failed: YjsProviderEvents['send-failed'][] = [];
    const pa = names.map((name, i) => createYjsProvider(a, docs[i]!, { name, log: (m) => logs.push(m), clock }));
    pa.forEach((p) => p.on('send-failed', (e) => failed.push(e)));
    await net.advance(100);
    // b opens both documents together: the two 700 KB step 2s pass a's 1 MiB queue bound.
    const b = net.join('r', { peerId: 'b' });
    const bdocs = names.map(() => new Y.Doc());
    const pb = names.map((name, i) => createYjsProvider(b, bdocs[i]!, { name, log: () => {}, clock }));
    for (let t = 0; t < 40 && !pb.every((p) => p.synced); t++) await net.advance(500);
    expect(logs.some((m) => /sync to b refused \(queue-full\)/.test(m))).toBe(true);
    expect(a.peers.has('b')).toBe(true);
    expect(bdocs.map((d) => d.getText('t').length)).toEqual([700_000, 700_000]);
    expect(pb.every((p) => p.synced)).toBe(true);
    expect(failed).toEqual([]);
    [...pa, ...pb].forEach((p) => p.destroy());
    await Promise.all([a.leave(), b.leave()]);
  });

  it('emits send-failed when a step 2 is over the room\'s message limit', async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 5, clock, mesh: { logger: silentLogger(), maxMessageBytes: 64 * 1024 } });
    const [a, b] = ['a', 'b'].map((peerId) => net.join('r', { peerId }));
    await net.advance(2000);
    const docA = new Y.Doc();
    docA.getText('t').insert(0, 'x'.repeat(100_000));
    const logs: string[] = [];
    const pa = createYjsProvider(a!, docA, { name: 'd', log: (m) => logs.push(m), clock });
    const failed: YjsProviderEvents['send-failed'][] = [];
    pa.on('send-failed', (e) => failed.push(e));
    const pb = createYjsProvider(b!, new Y.Doc(), { name: 'd', log: () => {}, clock });
    await net.advance(500);
    expect(failed).toEqual([{ to: 'b', kind: 'sync', error: expect.objectContaining({ code: 'message-too-large' }) }]);
    expect(logs.some((m) => /gave up sending sync to b: message-too-large/.test(m))).toBe(true);
    pa.destroy();
    pb.destroy();
    await Promise.all([a!.leave(), b!.leave()]);
  });

  it('delivers edits that fit the room\'s message limit one by one though merged they do not, and the edits after them', async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 5, clock, latencyMs: 10, mesh: { logger: silentLogger(), maxMessageBytes: 64 * 1024 } });
    const [a, b] = ['a', 'b'].map((peerId) => net.join('r', { peerId }));
    await net.advance(2000);
    const [docA, docB] = [new Y.Doc(), new Y.Doc()];
    const pa = createYjsProvider(a!, docA, { name: 'd', log: () => {}, clock });
    const pb = createYjsProvider(b!, docB, { name: 'd', log: () => {}, clock });
    const failed: YjsProviderEvents['send-failed'][] = [];
    pa.on('send-failed', (e) => failed.push(e));
    await net.advance(500);
    const t = docA.getText('t');
    t.insert(0, 'a'); // in flight
    t.insert(1, 'x'.repeat(40_000)); // these two wait and merge: 80 KB, over the 64 KiB limit
    t.insert(40_001, 'y'.repeat(40_000));
    await net.advance(1000);
    t.insert(0, 'z'); // Yjs applies a's edits in order: it waits on the ones before it
    await net.advance(1000);
    expect(failed).toEqual([]);
    expect(docB.getText('t').toString()).toBe(t.toString());
    pa.destroy();
    pb.destroy();
    await Promise.all([a!.leave(), b!.leave()]);
  });

  it('still delivers edits made while another channel fills the peer\'s queue when it is destroyed right after', async () => {
    const clock = new ManualClock();
    const net = smallFramesNet(clock, 256 * 1024);
    const [a, b] = ['a', 'b'].map((peerId) => net.join('r', { peerId }));
    await net.advance(1000);
    const [docA, docB] = [new Y.Doc(), new Y.Doc()];
    const logs: string[] = [];
    const pa = createYjsProvider(a!, docA, { name: 'd', log: (m) => logs.push(m), clock });
    const pb = createYjsProvider(b!, docB, { name: 'd', log: () => {}, clock });
    await net.advance(500);
    expect(pa.synced && pb.synced).toBe(true);
    // A 2 MB file on another channel: a's queue to b is over its 256 KiB bound for a while.
    b!.channel('files', { reliability: 'reliable' });
    void a!.channel('files', { reliability: 'reliable' }).send('b', new Uint8Array(2_000_000));
    docA.getText('t').insert(0, 'hello'); // refused (queue-full): waits for its retry
    for (let i = 0; i < 3; i++) await Promise.resolve();
    docA.getText('t').insert(5, ' world'); // waits behind it
    pa.destroy(); // the document is closed at once; b stays
    expect(logs).toEqual(['send of update to b refused (queue-full), retrying in 50 ms']);
    await net.advance(20_000);
    expect(docB.getText('t').toString()).toBe('hello world');
    pb.destroy();
    await Promise.all([a!.leave(), b!.leave()]);
  });

  it('leaves no retry timer behind after destroy()', async () => {
    const hub = new FakeHub();
    const a = hub.join('a');
    hub.join('b');
    a.channel('yjs:d').send = () => Promise.reject(queueFull());
    const clock = new ManualClock();
    const pa = createYjsProvider(a, new Y.Doc(), { name: 'd', log: () => {}, clock });
    await Promise.resolve();
    await Promise.resolve();
    expect(clock.pending).toBe(2); // the hello waits for its retry (and the presence check, every 3 s)
    clock.advance(50);
    await Promise.resolve();
    await Promise.resolve();
    expect(clock.pending).toBe(2); // refused again, waiting 100 ms
    pa.destroy();
    // The hello is dropped; only the goodbye (presence removed) is still tried, for
    // DRAIN_FOR_MS at most, and then no timer is left.
    for (let t = 0; t <= DRAIN_FOR_MS && clock.pending > 0; t += 2000) {
      clock.advance(2000);
      for (let i = 0; i < 3; i++) await Promise.resolve();
    }
    expect(clock.pending).toBe(0);
  });
});
