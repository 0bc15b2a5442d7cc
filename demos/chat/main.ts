/**
 * The chat demo: join a room through the relay, then talk to every peer straight over
 * WebRTC data channels. Uses only meshparty's public API.
 *
 * Open `chat/#room=NAME` (add `&password=...` for an encrypted room) in two windows.
 */
import { followLog } from '../shared/follow-log.js';
import { displayName } from '../shared/display-name.js';
import { MeshpartyError, type PeerId, type Room, type RoomStatus } from '../../src/index.js';
import { joinRetrying } from '../shared/join-retry.js';
import { decodeChatMessage, encodeChatMessage, MAX_HISTORY_LINES, MAX_NAME_LENGTH, type ChatLine, type ChatMessage } from './chat-message.js';
import { errorText, refusalText } from '../shared/error-text.js';
import { watchRoomProblem } from '../shared/room-problem.js';
import { randomName, readRoomLink, writeRoomLink } from './room-link.js';
import { relayUrl } from '../shared/relay-url.js';
import { copyLink } from '../shared/copy-link.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  status: $('status'),
  selfId: $('self-id'),
  share: $<HTMLButtonElement>('share'),
  joinForm: $<HTMLFormElement>('join-form'),
  room: $<HTMLInputElement>('room'),
  name: $<HTMLInputElement>('name'),
  password: $<HTMLInputElement>('password'),
  error: $('error'),
  roomView: $('room-view'),
  log: $('log'),
  sendForm: $<HTMLFormElement>('send-form'),
  message: $<HTMLInputElement>('message'),
  peers: $('peers'),
  peerCount: $('peer-count'),
};

const relay = relayUrl(location);
const names = new Map<PeerId, string>();
let room: Room | null = null;
/** Our own last lines, sent to each peer we meet. */
const said: ChatLine[] = [];
/** Lines shown, by sender and id: a peer met again (a reconnect) sends its history again. */
const shown = new Set<string>();
const MAX_SHOWN = 10_000;

function showStatus(state: RoomStatus | 'idle', text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function showError(code: string | null, text = ''): void {
  ui.error.hidden = code === null;
  ui.error.dataset.code = code ?? '';
  ui.error.textContent = text;
}

/**
 * Add a line to the log, in time order: `at` is when it was said (a line from a peer's
 * history goes among the lines said before it; live lines are said now).
 */
function logLine(kind: 'chat' | 'system', text: string, who?: string, at = Date.now(), own = false): void {
  const li = document.createElement('li');
  li.className = kind;
  li.dataset.at = String(at);
  li.title = new Date(at).toLocaleTimeString();
  if (who !== undefined) {
    const span = document.createElement('span');
    span.className = 'who';
    span.textContent = who;
    li.append(span);
  }
  li.append(document.createTextNode(text));
  const later = [...ui.log.children].find((other) => Number((other as HTMLElement).dataset.at) > at);
  followLog(ui.log, () => ui.log.insertBefore(li, later ?? null), own && !later);
}

/** Whether the line `id` of `from` is new here (and remember it). Lines of older pages have no id. */
function firstSight(from: PeerId, id: string | undefined): boolean {
  if (id === undefined) return true;
  const key = `${from} ${id}`;
  if (shown.has(key)) return false;
  if (shown.size >= MAX_SHOWN) shown.delete(shown.values().next().value!);
  shown.add(key);
  return true;
}

function lineId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => (b % 36).toString(36)).join('');
}

const nameOf = (id: PeerId): string => names.get(id) ?? id.slice(0, 8);

function renderPeers(r: Room): void {
  ui.peers.replaceChildren(
    ...[...r.peers.values()].map((p) => {
      const li = document.createElement('li');
      li.dataset.peerId = p.id;
      const who = document.createElement('span');
      who.textContent = `${nameOf(p.id)} · connected`;
      const rtt = document.createElement('span');
      rtt.className = 'rtt';
      rtt.textContent = p.rttMs === undefined ? 'rtt …' : `rtt ${p.rttMs.toFixed(0)} ms`;
      li.append(who, rtt);
      return li;
    }),
  );
  ui.peerCount.textContent = String(r.peers.size);
}

const STATUS_TEXT: Record<RoomStatus, string> = {
  connecting: 'connecting to the relay…',
  connected: 'connected',
  reconnecting: 'relay lost, reconnecting… (peers stay connected)',
  closed: 'left the room',
};

function bindRoom(r: Room, myName: string): void {
  const chat = r.channel('chat');
  const send = (to: PeerId | null, m: ChatMessage): void => {
    const bytes = encodeChatMessage(m);
    // A send only fails when that peer is already gone; its peer-left says so.
    void (to === null ? chat.broadcast(bytes) : chat.send(to, bytes)).catch((err: unknown) =>
      console.warn('chat: send failed', err),
    );
  };

  r.on('status', (s) => {
    showStatus(s, STATUS_TEXT[s]);
    if (s === 'reconnecting') showError('relay-reconnecting', `The relay at ${relay} is unreachable; retrying. Chat with peers already here keeps working.`);
    else if (s === 'connected' && ui.error.dataset.code === 'relay-reconnecting') showError(null);
    // A closed room sends nothing: the button too, or a line typed before it closed was
    // shown as said (and went nowhere) when Send was clicked.
    ui.message.disabled = s === 'closed';
    ui.sendForm.querySelector('button')!.disabled = s === 'closed';
  });
  // The relay turns our reconnection away (full, or too many connections from this
  // address): not fatal, the room keeps retrying with backoff; say why until it is back.
  r.on('relay-refused', (err) => {
    showError('relay-reconnecting', `${refusalText(err.code)} Retrying; chat with peers already here keeps working.`);
  });
  // The room's `error` events, as what is wrong now (room-problem.ts): shown in words while
  // it applies and taken down once it no longer does. Each event used to be put up as it
  // came, raw for codes without words, and stayed up after the trouble was over (a peer
  // connection that failed once, then opened).
  watchRoomProblem(r, relay, (problem) => {
    if (problem) {
      showError(problem.code, problem.text);
      logLine('system', problem.text);
    } else if (ui.error.dataset.code !== 'relay-reconnecting') {
      showError(null);
    }
  });
  r.on('peer-joined', (p) => {
    send(p.id, { t: 'hello', name: myName });
    if (said.length) send(p.id, { t: 'history', lines: said });
    logLine('system', `${nameOf(p.id)} connected`);
    renderPeers(r);
  });
  r.on('peer-left', ({ id, reason }) => {
    logLine('system', `${nameOf(id)} left (${reason})`);
    names.delete(id);
    renderPeers(r);
  });
  r.on('rtt', () => renderPeers(r));
  chat.on('message', ({ from, data }) => {
    const m = decodeChatMessage(data);
    if (typeof m === 'string') {
      console.warn(`chat: dropped a message from ${from}: ${m}`);
      return;
    }
    if (m.t === 'hello') {
      const before = nameOf(from);
      const name = displayName(m.name, MAX_NAME_LENGTH) ?? from.slice(0, 8);
      names.set(from, name);
      if (before !== name) logLine('system', `${before} is ${name}`);
      renderPeers(r);
    } else if (m.t === 'history') {
      // Its clock, not ours: a line "from the future" would stay below every later one.
      for (const line of m.lines) if (firstSight(from, line.id)) logLine('chat', line.text, nameOf(from), Math.min(line.at, Date.now()));
    } else if (firstSight(from, m.id)) {
      logLine('chat', m.text, nameOf(from));
    }
  });

  ui.sendForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = ui.message.value.trim();
    if (!text) return;
    const line = { id: lineId(), at: Date.now(), text };
    said.push(line);
    if (said.length > MAX_HISTORY_LINES) said.shift();
    send(null, { t: 'say', ...line });
    logLine('chat', text, `${myName} (you)`, line.at, true);
    ui.message.value = '';
  });
  addEventListener('pagehide', () => void r.leave());
}

async function join(roomName: string, myName: string, password: string | undefined): Promise<void> {
  showError(null);
  showStatus('connecting', STATUS_TEXT.connecting);
  ui.joinForm.querySelector('button')!.disabled = true;
  try {
    // Retried for as long as the relay cannot be reached, and said from the first failed
    // attempt on, with the countdown to the next: "connecting…" stayed up through joinRoom's
    // five attempts before, and then the page gave up.
    room = await joinRetrying({ relay, room: roomName, ...(password ? { password } : {}) }, ({ retryInS, refusal }) => {
      showStatus('connecting', `${refusal ? 'the relay turns us away' : "can't reach the relay"}, ${retryInS > 0 ? `retrying in ${retryInS} s` : 'retrying'}…`);
      // Turned away (full, too many connections from here): say that, not "unreachable".
      showError('relay-unreachable', refusal ? `${refusalText(refusal)} Retrying…` : `${errorText('relay-unreachable', '', relay)} Retrying…`);
    });
  } catch (err) {
    const e = err instanceof MeshpartyError ? err : new MeshpartyError('join-failed', String(err));
    showStatus('closed', 'not joined');
    showError(e.code, errorText(e.code, e.message, relay));
    ui.joinForm.querySelector('button')!.disabled = false;
    return;
  }
  showError(null);
  const invite = writeRoomLink(location, history, { room: roomName, password });
  ui.joinForm.hidden = true;
  ui.roomView.hidden = false;
  ui.share.hidden = false;
  ui.share.onclick = () => void copyLink(invite, ui.share);
  ui.selfId.textContent = room.selfId;
  ui.message.disabled = false;
  ui.sendForm.querySelector('button')!.disabled = false;
  document.title = `${roomName} · meshparty chat`;
  bindRoom(room, myName);
  showStatus(room.status, STATUS_TEXT[room.status]);
  logLine('system', `joined "${roomName}" as ${myName}${password ? ' (encrypted signaling)' : ''}`);
  renderPeers(room);
  ui.message.focus();
}

const link = readRoomLink(location);
ui.room.value = link.room ?? randomName('room');
ui.name.value = randomName('guest');
ui.password.value = link.password ?? '';
ui.joinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const roomName = ui.room.value.trim();
  // Only spaces pass the field's `required` (and come in links); joinRoom refused them in
  // the library's words ('bad-argument: room must be a non-empty string').
  if (!roomName) {
    showError('room-name-empty', 'Enter a room name.');
    ui.room.focus();
    return;
  }
  const myName = ui.name.value.trim().slice(0, MAX_NAME_LENGTH) || randomName('guest');
  void join(roomName, myName, ui.password.value || undefined);
});
// A shared link (room in the hash) joins at once; otherwise the form waits for the user.
if (link.room) ui.joinForm.requestSubmit();
// Another room's link pasted into this tab changes only the hash (the page writes its own
// with replaceState, which fires no hashchange): the tab would stay in the old room under
// the new link. Start over in the new one instead (pagehide leaves the old room).
addEventListener('hashchange', () => location.reload());
