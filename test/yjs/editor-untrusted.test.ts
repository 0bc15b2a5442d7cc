/**
 * The editor demo against what other peers may write: a chat entry or a presence state
 * of any shape must neither break the page (a chat render that throws inside a Yjs
 * transaction kept y-indexeddb from ever finishing its load) nor reach CSS unchecked
 * (y-codemirror.next writes a remote colour into a style attribute). Also: a password
 * room's text is stored apart from the same room name without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { chatEntry, safeColor, safeName, sanitizeRemoteUsers } from '../../demos/editor/untrusted.js';
import { storeNameFor } from '../../demos/editor/store-name.js';

/** Just enough DOM for chat.ts: elements that keep their children and text. */
class FakeElement {
  children: FakeElement[] | Array<FakeElement | string> = [];
  style = { props: new Map<string, string>(), setProperty(k: string, v: string) { this.props.set(k, v); } };
  textContent = '';
  scrollTop = 0;
  scrollHeight = 0;
  value = '';
  listeners = new Map<string, (e: Event) => void>();
  append(...xs: Array<FakeElement | string>) { (this.children as Array<FakeElement | string>).push(...xs); }
  replaceChildren(...xs: FakeElement[]) { this.children = xs; }
  addEventListener(type: string, l: (e: Event) => void) { this.listeners.set(type, l); }
  removeEventListener(type: string) { this.listeners.delete(type); }
}
const g = globalThis as { document?: unknown };
let hadDocument: unknown;
beforeAll(() => {
  hadDocument = g.document;
  g.document = { createElement: () => new FakeElement() };
});
afterAll(() => {
  g.document = hadDocument;
});
const shownText = (li: FakeElement) => (li.children as Array<FakeElement | string>).map((c) => (typeof c === 'string' ? c : c.textContent)).join('');

describe('editor demo: untrusted input', () => {
  it('accepts colours that are plain CSS colours only, and names that are strings', () => {
    expect(safeColor('hsl(215.123456 65% 45%)')).toBe('hsl(215.123456 65% 45%)');
    expect(safeColor('hsl(215 65% 45% / 0.2)')).toBe('hsl(215 65% 45% / 0.2)');
    expect(safeColor('#1a2b3c')).toBe('#1a2b3c');
    expect(safeColor('red; position:fixed; inset:0; background:url(https://evil/x)')).toBeUndefined();
    expect(safeColor('rgb(1,2,3) url(x)')).toBeUndefined();
    expect(safeColor({ toString: () => 'red' })).toBeUndefined();
    expect(safeName('  Ada  ')).toBe('Ada');
    expect(safeName('x'.repeat(1000))).toHaveLength(64);
    expect(safeName({ toString: null })).toBeUndefined();
    // Names that pass for someone else: reversed by a bidi control, padded with invisible
    // characters, or marked as this page's own person.
    expect(safeName('\u202eAda\u200b')).toBe('Ada');
    expect(safeName('Ada (you)')).toBe('Ada');
    expect(safeName('\u200b\u2066\u200f')).toBeUndefined();
    expect(chatEntry({ name: { toString: null }, color: 'red', text: 'hi', at: 1 })).toEqual({ name: '?', color: undefined, text: 'hi' });
    expect(chatEntry({ name: 'a', text: 42 })).toBeUndefined();
    expect(chatEntry(null)).toBeUndefined();
  });

  it('a hostile chat entry neither throws into the document load nor hides later messages', async () => {
    const { bindChat } = await import('../../demos/editor/chat.js');
    const attacker = new Y.Doc();
    attacker.getArray('chat').push([{ name: { toString: null }, color: 'red;x:y', text: 'hi', at: 1 }, 'junk', { name: 'evil', text: { a: 1 } }]);
    const victim = new Y.Doc();
    const log = new FakeElement();
    const me = () => ({ name: 'me', color: 'hsl(1 65% 45%)', colorLight: 'hsl(1 65% 45% / 0.2)' });
    bindChat(victim.getArray('chat') as never, log as never, new FakeElement() as never, new FakeElement() as never, me);
    // What y-indexeddb does on reload: apply the stored updates inside one transaction.
    expect(() => Y.transact(victim, () => Y.applyUpdate(victim, Y.encodeStateAsUpdate(attacker)), 'idb', false)).not.toThrow();
    victim.getArray('chat').push([{ name: 'bob', color: 'hsl(2 65% 45%)', text: 'hello', at: 2 }]);
    const items = log.children as FakeElement[];
    expect(items.map(shownText)).toEqual(['?: hi', 'bob: hello']);
    expect(items[0]!.style.props.has('--color')).toBe(false);
  });

  it('keeps the last 500 chat messages in the document', async () => {
    const { bindChat } = await import('../../demos/editor/chat.js');
    const doc = new Y.Doc();
    const chat = doc.getArray('chat');
    const form = new FakeElement();
    const input = new FakeElement();
    bindChat(chat as never, new FakeElement() as never, form as never, input as never, () => ({ name: 'me', color: 'hsl(1 65% 45%)', colorLight: '' }));
    for (let i = 0; i < 510; i++) {
      input.value = `m${i}`;
      form.listeners.get('submit')!({ preventDefault() {} } as Event);
    }
    expect(chat.length).toBe(500);
    expect((chat.get(0) as { text: string }).text).toBe('m10');
  });

  it('rewrites remote presence to a safe name and colour before other listeners see it', () => {
    const remote = new Awareness(new Y.Doc());
    remote.setLocalState({ user: { name: { toString: null }, color: 'red; position:fixed', colorLight: 'url(x)' }, cursor: { anchor: 5, head: 'x' } });
    const local = new Awareness(new Y.Doc());
    sanitizeRemoteUsers(local);
    const seen: unknown[] = [];
    local.on('change', () => seen.push(structuredClone(local.getStates().get(remote.clientID))));
    applyAwarenessUpdate(local, encodeAwarenessUpdate(remote, [remote.clientID]), 'peer');
    expect(seen).toEqual([{ user: { name: 'someone', color: 'hsl(0 0% 45%)', colorLight: 'hsl(0 0% 45% / 0.2)' } }]);
    remote.destroy();
    local.destroy();
  });

  it('stores a password room apart from the same room without it, and from another password', () => {
    const open = storeNameFor({ room: 'team', password: undefined }, 'main');
    const secret = storeNameFor({ room: 'team', password: 'secret' }, 'main');
    const other = storeNameFor({ room: 'team', password: 'other' }, 'main');
    expect(open).toBe('meshparty:team:main');
    expect(new Set([open, secret, other]).size).toBe(3);
    expect(secret).not.toContain('secret');
    expect(storeNameFor({ room: 'team', password: 'secret' }, 'main')).toBe(secret);
  });
});
