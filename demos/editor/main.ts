/**
 * The editor demo: one shared document in CodeMirror 6 (y-codemirror.next) with remote
 * cursors, a presence list, a chat, connection status and peer count. The room and
 * password come from the link; the text is kept in IndexedDB (where the browser lets the
 * site keep data: local-copy.ts), so a reload (even offline) keeps it, and edits made
 * offline sync when peers are back. Tabs of this
 * browser on the same room sync with each other at once, relay or not (tab sync).
 */
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { IndexeddbPersistence } from 'y-indexeddb';
import { EditorView, drawSelection, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next';
import { createYjsProvider, createTabSync, type Room, type MeshpartyProvider } from '../../src/index.js';
import { joinRetrying } from '../shared/join-retry.js';
import { readRoomLink } from '../shared/room-link.js';
import { relayUrl } from '../shared/relay-url.js';
import { errorText } from '../shared/error-text.js';
import { watchRoomProblem } from '../shared/room-problem.js';
import { copyLink } from '../shared/copy-link.js';
import { loadIdentity, nameSavedElsewhere, renamed, saveName } from './identity.js';
import { pageStorage } from '../shared/page-storage.js';
import { keepLocalCopy } from './local-copy.js';
import { showPresence } from './presence.js';
import { bindChat, type ChatMessage } from './chat.js';
import { sanitizeRemoteUsers } from './untrusted.js';
import { storeNameFor } from './store-name.js';

/** The document's name in the room (and in its IndexedDB store's name, see store-name.ts). */
const DOC_NAME = 'main';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const link = readRoomLink(location, history, 'doc', 8);
const relay = relayUrl(location);
const storage = pageStorage(window);
const me = loadIdentity(storage);

const doc = new Y.Doc();
const text = doc.getText('text');
const chat = doc.getArray<ChatMessage>('chat');
const awareness = new Awareness(doc);
// A copy: a rename changes `me` in place, and with `me` itself in presence the first
// rename was equal to what presence held, so it was no change there (this page's list
// kept the old name).
awareness.setLocalStateField('user', { ...me });
// First, before yCollab listens: other peers' names and colours reach the page only cleaned.
sanitizeRemoteUsers(awareness);
const storeName = storeNameFor(link, DOC_NAME);
const localCopy = keepLocalCopy(storeName, doc);
// Under the store's name: the same room, password and document as the IndexedDB copy, so
// a tab never gets another password's text this way either. A browser without
// BroadcastChannel (Safari before 15.4) gets none: it throws, and thrown here it left the
// page with no editor and no connection; such a tab's edits reach the others over the mesh.
const tabs = (() => {
  try {
    return createTabSync(doc, { name: storeName, awareness });
  } catch (err) {
    console.warn('[meshparty editor] tabs of this browser will sync through the room only', err);
    return undefined;
  }
})();
// Goodbye to the other tabs, so they drop this one's cursor at once, not 30 s later.
addEventListener('pagehide', () => tabs?.destroy());
// Back from the back/forward cache with tab sync gone: start over (IndexedDB has the text).
addEventListener('pageshow', (e) => {
  if (e.persisted) location.reload();
});
const undoManager = new Y.UndoManager(text);

new EditorView({
  doc: '',
  // Only @codemirror/view and /state are installed (the `codemirror` package here is v5),
  // so the setup is spelled out. yCollab alone undoes and redoes only on the browser's
  // historyUndo/historyRedo input events, and Chromium sends no historyRedo after an undo
  // it did not do itself, so Ctrl+Y did nothing: the keys are bound here (undo and redo
  // of this person's own edits, through the undo manager).
  extensions: [
    keymap.of(yUndoManagerKeymap),
    lineNumbers(),
    drawSelection(),
    highlightActiveLine(),
    EditorView.lineWrapping,
    yCollab(text, awareness, { undoManager }),
  ],
  parent: $('editor'),
});
showPresence(awareness, $('presence'));
bindChat(chat, $('chat-log'), $<HTMLFormElement>('chat-form'), $<HTMLInputElement>('chat-input'), () => me);

const nameInput = $<HTMLInputElement>('name');
nameInput.value = me.name;
const rename = (name: string) => {
  Object.assign(me, renamed(me, name));
  // The name the others see: a cleared field keeps the old name, and would stay empty.
  nameInput.value = me.name;
  awareness.setLocalStateField('user', { ...me });
};
nameInput.addEventListener('change', () => {
  rename(nameInput.value.trim() || me.name);
  saveName(storage, me.name);
});
// A rename in another tab of this browser is this person's too: this tab kept the old
// name (in presence, on its cursor, in the chat) until it was reloaded.
addEventListener('storage', (e) => {
  const name = nameSavedElsewhere(e);
  if (name !== undefined && name !== me.name) rename(name);
});
$('share').addEventListener('click', () => void copyLink(location.href, $('share')));
// Another room's link pasted into this tab changes only the hash: the page would stay in
// the old room (and its invite button would hand out the new one). Start over instead.
addEventListener('hashchange', () => location.reload());

const statusEl = $('status');
const peerCountEl = $('peer-count');
function showStatus(state: string, label: string, peers: number): void {
  statusEl.dataset.state = state;
  statusEl.textContent = label;
  peerCountEl.textContent = `${peers} ${peers === 1 ? 'peer' : 'peers'}`;
}

/**
 * Why the relay turns the connection away while the page retries (`relay-refused` events,
 * `relay-unreachable`'s `detail.lastRefusal`), or undefined when it did not say.
 */
function refusalText(code: unknown): string | undefined {
  if (code === 'server-full') return 'relay full';
  if (code === 'too-many-connections-from-ip') return 'too many connections from this address';
  // The relay's join rate for this address (friends behind one NAT joining at once).
  if (code === 'rate-limited') return 'too many joins from this network just now';
  return undefined;
}

let room: Room | undefined;
let provider: MeshpartyProvider | undefined;

/**
 * Join the room, retrying with backoff while the relay is unreachable or full (the page
 * works offline meanwhile). Said from the first failed attempt on, with the countdown to
 * the next: "connecting…" alone stayed up through five attempts before.
 */
async function connect(): Promise<void> {
  showStatus('connecting', 'connecting…', 0);
  try {
    room = await joinRetrying({ relay, room: link.room, password: link.password }, ({ retryInS, refusal }) => {
      const why = refusalText(refusal) ?? "can't reach the relay";
      showStatus('offline', `${why}, ${retryInS > 0 ? `retrying in ${retryInS} s` : 'retrying'}… — edits are kept and will sync`, 0);
    });
  } catch (err) {
    // Only an unreachable (or full) relay is worth waiting out; a refusal of the room
    // (room-full, a token error) stays what it is, and the page keeps working offline.
    const { code, message } = err as { code?: string; message?: string };
    return showStatus('error', errorText(code ?? 'join-failed', message ?? String(err), relay), 0);
  }
  const joined = room!;
  // While rejoining (the relay restarted), why the relay turns us away, until we are back in.
  let refusedNow: string | undefined;
  joined.on('status', (s) => {
    if (s === 'connected') refusedNow = undefined;
  });
  provider = createYjsProvider(joined, doc, { name: DOC_NAME, awareness });
  // The room's `error` events, as what is wrong now: a room that ends for good (the relay
  // refuses our rejoin after it restarted, a wrong password) keeps its reason (it does not
  // rejoin by itself); trouble the room lives on with (this browser would not start a
  // WebRTC connection) is shown in words while it lasts, and goes once it no longer applies
  // (see room-problem.ts). Showing each event's raw message put library wording in the
  // status line, and the next status change wiped it while it still held.
  const problems = watchRoomProblem(joined, relay, () => render());
  const render = () => {
    const problem = problems.current();
    if (problem?.fatal) return showStatus('error', problem.text, 0);
    if (joined.status === 'reconnecting' && refusedNow !== undefined) return showStatus('offline', `${refusedNow}, retrying…`, joined.peers.size);
    if (joined.status === 'connected' && problem) return showStatus('warning', problem.text, joined.peers.size);
    showStatus(
      joined.status === 'connected' ? 'connected' : joined.status === 'closed' ? 'offline' : 'connecting',
      joined.status === 'connected' ? (provider!.synced || joined.peers.size === 0 ? 'connected' : 'syncing…') : joined.status,
      joined.peers.size,
    );
  };
  provider.on('status', render);
  provider.on('synced', render);
  joined.on('relay-refused', (err) => {
    refusedNow = refusalText(err.code) ?? err.code;
    render();
  });
  render();
}

void localCopy.loaded.then(() => connect());

/** For tests and the console: the document and connection at a glance. */
(window as unknown as Record<string, unknown>).meshpartyEditor = {
  doc,
  text: () => text.toString(),
  peers: () => room?.peers.size ?? 0,
  /** Other tabs of this browser on the document (tab sync). */
  tabs: () => tabs?.tabs ?? 0,
  synced: () => provider?.synced ?? false,
  /** Whether the stored copy was loaded (false where this browser keeps none). */
  persisted: localCopy.loaded,
  /** The text as stored in IndexedDB right now (read through a second, throwaway doc). */
  storedText: async () => {
    const probe = new Y.Doc();
    const reader = new IndexeddbPersistence(storeName, probe);
    await reader.whenSynced;
    const stored = probe.getText('text').toString();
    await reader.destroy();
    return stored;
  },
};
