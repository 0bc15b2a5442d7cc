/**
 * What chat peers say to each other on the `chat` channel: JSON, one message per frame.
 * Anything a peer sends is untrusted: `decodeChatMessage` returns null (and the page logs
 * why) for whatever is not exactly one of these shapes within the limits.
 */
export const MAX_NAME_LENGTH = 32;
export const MAX_TEXT_LENGTH = 2000;

export type ChatMessage =
  /** Sent to each peer when its connection opens. */
  | { t: 'hello'; name: string }
  | { t: 'say'; text: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeChatMessage(m: ChatMessage): Uint8Array {
  return encoder.encode(JSON.stringify(m));
}

/** The message, or a string saying why it was rejected. */
export function decodeChatMessage(bytes: Uint8Array): ChatMessage | string {
  // JSON writes a control character as 6 bytes (\u0001): the longest text is 6 bytes a character.
  if (bytes.byteLength > 6 * (MAX_TEXT_LENGTH + 64)) return `too large (${bytes.byteLength} bytes)`;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return 'not UTF-8 JSON';
  }
  if (typeof value !== 'object' || value === null) return 'not an object';
  const m = value as Record<string, unknown>;
  if (m.t === 'hello' && typeof m.name === 'string' && m.name.length > 0 && m.name.length <= MAX_NAME_LENGTH) {
    return { t: 'hello', name: m.name };
  }
  if (m.t === 'say' && typeof m.text === 'string' && m.text.length > 0 && m.text.length <= MAX_TEXT_LENGTH) {
    return { t: 'say', text: m.text };
  }
  return `unknown or malformed message (t=${String(m.t).slice(0, 16)})`;
}
