import { describe, expect, it } from 'vitest';
import { SendQueue } from '../../src/mesh/send-queue.js';
import { MeshpartyError } from '../../src/util/errors.js';
import type { PeerTransport, Reliability } from '../../src/transport/types.js';

/** A transport that records frames and whose buffer the test sets. */
function fakeTransport(maxMessageSize = 1024) {
  const frames: Uint8Array[] = [];
  const t = {
    buffered: 0,
    frames,
    remoteId: 'r',
    initiator: true,
    maxMessageSize,
    lowWaterMark: 0,
    signal() {},
    send(_r: Reliability, data: Uint8Array) {
      frames.push(data);
    },
    bufferedAmount: () => t.buffered,
    on: () => () => {},
    destroy() {},
  };
  return t as typeof t & PeerTransport;
}

describe('SendQueue', () => {
  it('hands a message to an idle transport inside enqueue(), before any microtask', () => {
    const t = fakeTransport();
    const q = new SendQueue(t, { highWaterMark: 4096, maxQueuedBytes: 1 << 20, onSendError: () => {} });
    void q.enqueue(7, new Uint8Array([1, 2, 3]));
    expect(t.frames).toHaveLength(1);
    expect(q.queuedBytes()).toBe(0);
  });

  it('waits above the high-water mark and sends on pump()', async () => {
    const t = fakeTransport();
    const q = new SendQueue(t, { highWaterMark: 4096, maxQueuedBytes: 1 << 20, onSendError: () => {} });
    t.buffered = 5000;
    let done = false;
    void q.enqueue(7, new Uint8Array(10)).then(() => (done = true));
    expect(t.frames).toHaveLength(0);
    expect(q.queuedBytes(7)).toBe(10);
    t.buffered = 0;
    q.pump();
    expect(t.frames).toHaveLength(1);
    await Promise.resolve();
    expect(done).toBe(true);
  });

  it('a message enqueued while others wait goes out after them, even once the transport has room', () => {
    const t = fakeTransport();
    const q = new SendQueue(t, { highWaterMark: 4096, maxQueuedBytes: 1 << 20, onSendError: () => {} });
    t.buffered = 5000;
    void q.enqueue(7, new Uint8Array([1]));
    t.buffered = 0; // room again, but the first message has not been pumped yet
    void q.enqueue(7, new Uint8Array([2]));
    expect(t.frames.map((f) => f[f.length - 1])).toEqual([1, 2]);
  });

  it('a frame the transport refuses at once is reported, stays queued, and its promise rejects when the queue fails', async () => {
    const t = fakeTransport();
    const errors: unknown[] = [];
    const q = new SendQueue(t, { highWaterMark: 4096, maxQueuedBytes: 1 << 20, onSendError: (e) => errors.push(e) });
    const refusal = new Error('channel closing');
    t.send = () => {
      throw refusal;
    };
    const sent = q.enqueue(7, new Uint8Array([1, 2, 3]));
    expect(errors).toEqual([refusal]);
    expect(q.queuedBytes(7)).toBe(3);
    const failure = new MeshpartyError('connection-closed', 'gone');
    q.fail(failure);
    await expect(sent).rejects.toBe(failure);
  });
});
