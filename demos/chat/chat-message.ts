/**
 * What chat peers say to each other on the `chat` channel: JSON, one message per frame.
 * Anything a peer sends is untrusted: `decodeChatMessage` returns a string saying why
 * (and the page logs it) for whatever is not exactly one of these shapes within the limits.
 */
export const MAX_NAME_LENGTH = 32;
export const MAX_TEXT_LENGTH = 2000;
/** Lines of its own a peer keeps, and sends to each peer it meets (`history`). */
export const MAX_HISTORY_LINES = 30;

/** One line said: `id` tells it apart from the sender's others (a line heard twice is shown once), `at` is when (ms since 1970, the sender's clock). */
export interface ChatLine {
  id: string;
  at: number;
  text: string;
}

export type ChatMessage =
  /** Sent to each peer when its connection opens. */
  | { t: 'hello'; name: string }
  /** A line said now (`id` and `at` are absent from older pages). */
  | { t: 'say'; text: string; id?: string; at?: number }
  /**
   * Sent after `hello` to each peer met: the sender's own last lines, so a peer that
   * joins sees what the people here said before it came. Only the sender's own: a peer
   * cannot put words in someone else's mouth.
   */
  | { t: 'history'; lines: ChatLine[] };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeChatMessage(m: ChatMessage): Uint8Array {
  return encoder.encode(JSON.stringify(m));
}

/** The message, or a string saying why it was rejected. */
export function decodeChatMessage(bytes: Uint8Array): ChatMessage | string {
  // JSON writes a control character as 6 bytes (\u0001): the longest text is 6 bytes a character.
  if (bytes.byteLength > (MAX_HISTORY_LINES + 1) * 6 * (MAX_TEXT_LENGTH + 64)) return `too large (${bytes.byteLength} bytes)`;
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
  if (m.t === 'say' && isText(m.text)) {
    if (m.id === undefined && m.at === undefined) return { t: 'say', text: m.text };
    if (isId(m.id) && isTime(m.at)) return { t: 'say', text: m.text, id: m.id, at: m.at };
    return 'say with a bad id or time';
  }
  if (m.t === 'history' && Array.isArray(m.lines) && m.lines.length > 0 && m.lines.length <= MAX_HISTORY_LINES) {
    const lines: ChatLine[] = [];
    for (const l of m.lines as unknown[]) {
      const line = l as Record<string, unknown> | null;
      if (typeof line !== 'object' || line === null || !isId(line.id) || !isTime(line.at) || !isText(line.text)) return 'history with a malformed line';
      lines.push({ id: line.id, at: line.at, text: line.text });
    }
    return { t: 'history', lines };
  }
  return `unknown or malformed message (t=${String(m.t).slice(0, 16)})`;
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT_LENGTH;
const isId = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9]{1,16}$/.test(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
