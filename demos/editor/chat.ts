/**
 * The chat beside the document: a Y.Array in the same document, so it syncs, survives a
 * reload (y-indexeddb) and is kept by the keeper like the text.
 */
import * as Y from 'yjs';
import { followLog } from '../shared/follow-log.js';
import type { Identity } from './identity.js';
import { MAX_CHAT_TEXT, chatEntry } from './untrusted.js';

export interface ChatMessage {
  name: string;
  color: string;
  text: string;
  at: number;
}

const MAX_SHOWN = 200;
/** Messages kept in the document: older ones are removed as new ones are sent, so the chat does not grow for good. */
const MAX_KEPT = 500;

/** Render the chat into `log` and send from `form`; returns the unsubscribe function. */
export function bindChat(messages: Y.Array<ChatMessage>, log: HTMLElement, form: HTMLFormElement, input: HTMLInputElement, me: () => Identity): () => void {
  /** The next render shows a line this person just sent: scroll to it wherever they were. */
  let ownSent = false;
  const render = () => {
    // Runs inside Yjs transactions (also y-indexeddb's load): it must never throw, or the
    // page would never finish loading its stored document.
    try {
      const shown = messages.toArray().slice(-MAX_SHOWN).flatMap((m) => {
        const entry = chatEntry(m); // any peer can put any value in the array
        return entry ? [entry] : [];
      });
      followLog(log, () =>
        log.replaceChildren(
          ...shown.map((m) => {
            const li = document.createElement('li');
            const who = document.createElement('b');
            who.textContent = `${m.name}: `;
            if (m.color) li.style.setProperty('--color', m.color);
            li.append(who, m.text);
            return li;
          }),
        ),
        ownSent,
      );
      ownSent = false;
    } catch (err) {
      console.warn('[meshparty editor] could not show the chat', err);
    }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const text = input.value.trim().slice(0, MAX_CHAT_TEXT);
    if (!text) return;
    const { name, color } = me();
    ownSent = true; // (the push renders at once, inside this transaction)
    messages.doc!.transact(() => {
      messages.push([{ name, color, text, at: Date.now() }]);
      if (messages.length > MAX_KEPT) messages.delete(0, messages.length - MAX_KEPT);
    });
    input.value = '';
  };
  messages.observe(render);
  form.addEventListener('submit', submit);
  render();
  return () => {
    messages.unobserve(render);
    form.removeEventListener('submit', submit);
  };
}
