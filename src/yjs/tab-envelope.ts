/**
 * The envelope of tab sync's messages on its BroadcastChannel (PROTOCOL.md, "Tab sync"):
 * which tab sent a message, which tab it is for, and its flags, around one document-channel
 * message. Any tab of the origin can post on the channel (another app, a broken build, a
 * script), so what comes in is checked whole here before anything of it is used.
 */

/** Marks our envelopes, and their version: a message without it is someone else's. */
export const ENVELOPE = 'meshparty-tab/1';
/** The longest tab id accepted (a tab picks 24 hex digits). */
const MAX_TAB_ID_LENGTH = 64;

/** One message on the channel, checked. */
export interface Envelope {
  t: typeof ENVELOPE;
  /** The sending tab. */
  from: string;
  /** The tab an answer is for; absent when it is for every tab. */
  to?: string;
  /** The sender is going (its presence goes with it). */
  bye?: true;
  /** The sender holds its Web Lock, so a tab may ask for it to learn when the sender is gone. */
  l?: true;
  /** On a hello: answer with your state vector only; the sender asks one tab for what it lacks. */
  p?: true;
  data?: Uint8Array;
}

/**
 * The envelope in `raw`, or why it is not one of ours (then nothing of it is used). Its
 * `data` is not decoded here: that is protocol.ts's, with the receiver's limits.
 *
 * @example
 * ```ts
 * const envelope = readEnvelope(event.data);
 * if (typeof envelope === 'string') return drop(envelope);
 * ```
 */
export function readEnvelope(raw: unknown): Envelope | string {
  if (typeof raw !== 'object' || raw === null) return 'not an envelope';
  const e = raw as Partial<Record<keyof Envelope, unknown>>;
  if (e.t !== ENVELOPE) return `not a ${ENVELOPE} envelope`;
  if (typeof e.from !== 'string' || e.from.length === 0 || e.from.length > MAX_TAB_ID_LENGTH) return 'bad sender';
  if (e.to !== undefined && (typeof e.to !== 'string' || e.to.length > MAX_TAB_ID_LENGTH)) return 'bad recipient';
  if (e.bye !== undefined && e.bye !== true) return 'bad goodbye';
  if (e.l !== undefined && e.l !== true) return 'bad lock flag';
  if (e.p !== undefined && e.p !== true) return 'bad pull flag';
  if (e.bye) return { t: ENVELOPE, from: e.from, bye: true };
  if (!(e.data instanceof Uint8Array)) return 'no message bytes';
  return { t: ENVELOPE, from: e.from, to: e.to as string | undefined, data: e.data, ...(e.l && { l: true as const }), ...(e.p && { p: true as const }) };
}

/**
 * A new tab id: 24 random hex digits.
 *
 * @example
 * ```ts
 * const tabId = randomTabId(); // e.g. '3f9c0a1b...'
 * ```
 */
export function randomTabId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
