/**
 * What other peers put in the shared document and in presence is untrusted: any peer in
 * the room can write any value there. These turn it into what the page may render, or
 * nothing, so a hostile value can neither break rendering (a chat observer that throws
 * inside a Yjs transaction stopped the page from ever loading its stored text) nor
 * style the page (y-codemirror.next puts a remote colour into a `style` attribute).
 */
import type { Awareness } from 'y-protocols/awareness';
import { displayName } from '../shared/display-name.js';

/** Longest name shown, in characters. */
export const MAX_NAME = 64;
/** Longest chat message shown, in characters (the input allows as much). */
export const MAX_CHAT_TEXT = 500;
/** Colour of a peer that sent none we accept. */
const FALLBACK = { color: 'hsl(0 0% 45%)', colorLight: 'hsl(0 0% 45% / 0.2)' };

/** A colour we can put in CSS as it is: `#rgb`-style hex or `hsl(...)`/`rgb(...)` with numbers only. */
export function safeColor(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  return /^(#[0-9a-f]{3,8}|(hsl|rgb)a?\([\d.%\s,/-]+\))$/i.test(value) ? value : undefined;
}

/** A name to show: a string made safe to show (see display-name.ts), at most {@link MAX_NAME}; undefined if it is none. */
export function safeName(value: unknown): string | undefined {
  return typeof value === 'string' ? displayName(value, MAX_NAME) : undefined;
}

/** One chat entry as it may be shown, or undefined for a value that is not one. */
export function chatEntry(value: unknown): { name: string; color?: string; text: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (typeof m.text !== 'string') return undefined;
  return { name: safeName(m.name) ?? '?', color: safeColor(m.color), text: m.text.slice(0, MAX_CHAT_TEXT) };
}

/**
 * Rewrite every remote peer's `user` in presence to a safe name and colours as it
 * arrives. Register it before anything else listens (before the EditorView with
 * yCollab is made), so everyone after sees only the rewritten values. Returns the
 * unsubscribe function.
 */
export function sanitizeRemoteUsers(awareness: Awareness): () => void {
  const onChange = ({ added, updated }: { added: number[]; updated: number[] }) => {
    for (const id of [...added, ...updated]) {
      if (id === awareness.clientID) continue;
      const state = awareness.getStates().get(id) as { user?: unknown; cursor?: unknown } | undefined;
      if (!state) continue;
      // y-codemirror.next reads `cursor` as two relative positions; anything else is dropped.
      const cursor = state.cursor as { anchor?: unknown; head?: unknown } | null | undefined;
      if (cursor != null && !(typeof cursor === 'object' && isObject(cursor.anchor) && isObject(cursor.head))) delete state.cursor;
      if (state.user === undefined) continue;
      const user = (typeof state.user === 'object' && state.user !== null ? state.user : {}) as Record<string, unknown>;
      state.user = {
        name: safeName(user.name) ?? 'someone',
        color: safeColor(user.color) ?? FALLBACK.color,
        colorLight: safeColor(user.colorLight) ?? FALLBACK.colorLight,
      };
    }
  };
  awareness.on('change', onChange);
  return () => awareness.off('change', onChange);
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}
