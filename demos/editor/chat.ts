/**
 * The chat beside the document: a Y.Array in the same document, so it syncs, survives a
 * reload (y-indexeddb) and is kept by the keeper like the text.
 */
import * as Y from 'yjs';
import type { Identity } from './identity.js';

export interface ChatMessage {
  name: string;
  color: string;
  text: string;
  at: number;
}

const MAX_SHOWN = 200;

/** Render the chat into `log` and send from `form`; returns the unsubscribe function. */
export function bindChat(messages: Y.Array<ChatMessage>, log: HTMLElement, form: HTMLFormElement, input: HTMLInputElement, me: () => Identity): () => void {
  const render = () => {
    const all = messages.toArray().slice(-MAX_SHOWN);
    log.replaceChildren(
      ...all.map((m) => {
        const li = document.createElement('li');
        const who = document.createElement('b');
        who.textContent = `${String(m?.name ?? '?')}: `;
        if (typeof m?.color === 'string') li.style.setProperty('--color', m.color);
        li.append(who, String(m?.text ?? ''));
        return li;
      }),
    );
    log.scrollTop = log.scrollHeight;
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const { name, color } = me();
    messages.push([{ name, color, text, at: Date.now() }]);
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
