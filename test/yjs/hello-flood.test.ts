/**
 * A peer that floods a provider with sync hellos (each asks for a copy of the document)
 * costs it one encoding of the document per answer actually sent, not one per hello: the
 * answers that pile up while the channel is busy collapse into one, encoded when it goes.
 * `Y.encodeStateAsUpdate` is counted through a wrapped `yjs` module.
 */
import { describe, expect, it, vi } from 'vitest';

const counts = vi.hoisted(() => ({ encodes: 0 }));
vi.mock('yjs', async (importOriginal) => {
  const Y = await importOriginal<typeof import('yjs')>();
  return {
    ...Y,
    encodeStateAsUpdate: (...args: Parameters<typeof Y.encodeStateAsUpdate>) => {
      counts.encodes++;
      return Y.encodeStateAsUpdate(...args);
    },
  };
});

import * as Y from 'yjs';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { decodeYjsMessage, encodeSyncStep1, Step1Kind, YjsTag } from '../../src/yjs/protocol.js';
import { docChannelName } from '../../src/yjs/catalog.js';
import { waitFor } from '../support/net.js';
import { FakeHub } from './fake-room.js';

describe('yjs provider under a hello flood', () => {
  it('encodes the document once per answer sent, not once per hello, and the last answer is whole', async () => {
    const hub = new FakeHub();
    const victim = hub.join('victim');
    const hostile = hub.join('hostile');
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'x'.repeat(100_000));
    const provider = createYjsProvider(victim, doc, { name: 'd', log: () => {} });
    const channel = hostile.channel(docChannelName('d'));
    const answers: Uint8Array[] = [];
    channel.on('message', ({ data }) => {
      const m = decodeYjsMessage(data);
      if (m.ok && m.message.tag === YjsTag.SyncStep2) answers.push(m.message.update);
    });
    await waitFor(() => provider.idle, 'the first sync is out');
    counts.encodes = 0;
    const hello = encodeSyncStep1(Step1Kind.Hello, new Uint8Array([0]));
    for (let i = 0; i < 200; i++) void channel.send('victim', hello);
    await waitFor(() => hub.sent.filter((s) => s.from === 'hostile').length >= 200, 'all hellos sent');
    await waitFor(() => provider.idle && answers.length > 0, 'answered');
    // Without the lazy answer: 200 encodings of 100 KB, one per hello.
    expect(counts.encodes).toBeLessThanOrEqual(4);
    expect(answers.length).toBeLessThanOrEqual(4);
    const copy = new Y.Doc();
    Y.applyUpdate(copy, answers.at(-1)!);
    expect(copy.getText('t').length).toBe(100_000);
    provider.destroy();
  });
});
