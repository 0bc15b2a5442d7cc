/**
 * The chat demo's message codec: whatever a peer sends is untrusted, so anything but
 * the known shapes within their limits is rejected with a reason, never thrown.
 */
import { describe, expect, it } from 'vitest';
import { decodeChatMessage, encodeChatMessage, MAX_HISTORY_LINES, MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from '../../demos/chat/chat-message.js';
import { createRng } from '../../src/index.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('chat message codec', () => {
  it('round-trips hello and say', () => {
    expect(decodeChatMessage(encodeChatMessage({ t: 'hello', name: 'Ada' }))).toEqual({ t: 'hello', name: 'Ada' });
    expect(decodeChatMessage(encodeChatMessage({ t: 'say', text: 'hi ✓ <b>' }))).toEqual({ t: 'say', text: 'hi ✓ <b>' });
    const said = { t: 'say', text: 'hi', id: 'k3x9', at: 1_764_000_000_000 } as const;
    expect(decodeChatMessage(encodeChatMessage(said))).toEqual(said);
    // The longest history the page sends: every line at the longest text, each character one JSON escapes.
    const lines = Array.from({ length: MAX_HISTORY_LINES }, (_, i) => ({ id: `l${i}`, at: 1 + i, text: '\u0001'.repeat(MAX_TEXT_LENGTH) }));
    expect(decodeChatMessage(encodeChatMessage({ t: 'history', lines }))).toEqual({ t: 'history', lines });
  });

  it('rejects malformed input with a reason', () => {
    const cases: Uint8Array[] = [
      bytes('not json'),
      Uint8Array.of(0xff, 0xfe, 0x00),
      bytes('null'),
      bytes('[1,2]'),
      bytes('{"t":"say"}'),
      bytes('{"t":"say","text":""}'),
      bytes('{"t":"say","text":42}'),
      bytes(JSON.stringify({ t: 'say', text: 'x'.repeat(MAX_TEXT_LENGTH + 1) })),
      bytes(JSON.stringify({ t: 'hello', name: 'n'.repeat(MAX_NAME_LENGTH + 1) })),
      bytes('{"t":"admin","text":"rm -rf"}'),
      bytes('{"t":"say","text":"hi","id":"k3"}'),
      bytes('{"t":"say","text":"hi","id":"bad id!","at":5}'),
      bytes('{"t":"say","text":"hi","id":"k3","at":1.5}'),
      bytes('{"t":"history","lines":[]}'),
      bytes('{"t":"history","lines":[null]}'),
      bytes('{"t":"history","lines":[{"id":"a","at":-1,"text":"x"}]}'),
      bytes('{"t":"history","lines":[{"id":"a","at":1,"text":""}]}'),
      bytes(JSON.stringify({ t: 'history', lines: Array.from({ length: MAX_HISTORY_LINES + 1 }, (_, i) => ({ id: `l${i}`, at: 1, text: 'x' })) })),
      new Uint8Array(100_000),
    ];
    for (const c of cases) expect(typeof decodeChatMessage(c)).toBe('string');
  });

  it('never throws on random bytes (seeded)', () => {
    const rng = createRng(7);
    for (let i = 0; i < 2000; i++) {
      const b = new Uint8Array(rng.int(64));
      for (let j = 0; j < b.length; j++) b[j] = rng.chance(0.7) ? 32 + rng.int(95) : rng.int(256);
      expect(() => decodeChatMessage(b)).not.toThrow();
    }
  });
});
