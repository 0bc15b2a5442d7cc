/**
 * The light-cycles demo page: joins the room from the link, runs the lobby, then plays
 * in deterministic lockstep (src/lockstep) with Phaser drawing the state. The rules are
 * in light-cycles.ts (pure, integer maths); this file only wires things together.
 */
import { createLockstepSession, joinRoom, type LockstepSession, type Room } from '../../src/index.js';
import { showSessionNotices } from './session-notices.js';
import { bindKeyboard } from './keyboard.js';
import { createSteering } from './steering.js';
import { bindSwipes, bindTouchPad } from './touch.js';
import { type CycleInput, type LightCyclesState, lightCycles } from './light-cycles.js';
import { readRoomLink } from '../shared/room-link.js';
import { relayUrl } from '../shared/relay-url.js';
import { copyLink } from '../shared/copy-link.js';
import { pageStorage, readStored, writeStored } from '../shared/page-storage.js';
import { Lobby } from './lobby.js';
import { formatOverlay } from './overlay.js';
import { createArena, slotCss, type ArenaView } from './renderer.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
// The game has no password: of the link it uses the room alone.
const roomName = readRoomLink(location, history, 'arena').room;
const relay = relayUrl(location);
// A browser that keeps no site data only forgets the name (reading localStorage throws there).
const storage = pageStorage(window);
const NAME_KEY = 'meshparty:game:name';
const savedName = readStored(storage, NAME_KEY) ?? `Rider-${Math.random().toString(36).slice(2, 6)}`;

let room: Room | undefined;
let session: LockstepSession<LightCyclesState, CycleInput> | undefined;
let lobby: Lobby | undefined;
let arena: ArenaView | undefined;
let lastDesync: number | undefined;
/** Why this page went back to the lobby to be admitted again, each time (for the e2e tests). */
const rejoins: string[] = [];

function setStatus(state: string, text: string): void {
  const el = $('status');
  el.dataset.state = state;
  el.textContent = text;
}

function renderLobby(): void {
  if (!lobby || !room) return;
  const list = $('lobby-list');
  list.replaceChildren(
    ...[room.selfId, ...room.peers.keys()].map((id) => {
      const li = document.createElement('li');
      const entry = id === room!.selfId ? lobby!.me : lobby!.entries.get(id);
      li.textContent = `${lobby!.nameOf(id)}${id === room!.selfId ? ' (you)' : ''}${id === lobby!.hostId ? ' — host' : ''}`;
      if (entry?.ready) li.className = 'ready';
      return li;
    }),
  );
  $('ready').textContent = lobby.me.ready ? 'Not ready' : "I'm ready";
  const start = $<HTMLButtonElement>('start');
  start.hidden = !lobby.isHost || lobby.gameRunning;
  start.disabled = lobby.readyPlayers().length === 0;
  $('lobby-hint').textContent = lobby.gameRunning
    ? 'A game is running: you join it at the next round.'
    : lobby.isHost
      ? 'You are the host: start when your friends are ready.'
      : `Waiting for ${lobby.nameOf(lobby.hostId)} (host) to start.`;
}

function renderScores(state: LightCyclesState): void {
  const rows = [...state.cycles].sort((a, b) => b.score - a.score);
  $('scores').replaceChildren(
    ...rows.map((c) => {
      const li = document.createElement('li');
      li.textContent = `${lobby?.nameOf(c.id) ?? c.id}${c.id === room?.selfId ? ' (you)' : ''}: ${c.score}${c.waiting ? ' — next round' : c.alive ? '' : ' — out'}`;
      if (c.slot >= 0) li.style.color = slotCss(c.slot);
      return li;
    }),
  );
}

async function showArena(): Promise<void> {
  $('lobby').hidden = true;
  $('arena-wrap').hidden = false;
  arena ??= await createArena($('arena'));
}

/** Words for a relay's refusal of the connection itself (`server-full`, `too-many-connections-from-ip`, `rate-limited`). */
const refusalText = (code: unknown): string =>
  code === 'server-full' ? 'relay full' : code === 'rate-limited' ? 'too many joins from this network' : 'relay refuses this address';

async function main(): Promise<void> {
  setStatus('connecting', `connecting to ${relay}…`);
  try {
    // While the relay turns us away the join keeps retrying: say why it takes long.
    room = await joinRoom({ relay, room: roomName, onRelayRefused: (err) => setStatus('connecting', `${refusalText(err.code)}, retrying…`) });
  } catch (err) {
    const lastRefusal = (err as { detail?: { lastRefusal?: string } }).detail?.lastRefusal;
    setStatus('error', lastRefusal ? `cannot join: ${refusalText(lastRefusal)}, try again later` : `cannot join: ${(err as Error).message}`);
    return;
  }
  const joined = room;
  setStatus('connected', `room ${roomName}`);
  joined.on('status', (s) => setStatus(s === 'connected' ? 'connected' : 'connecting', s === 'connected' ? `room ${roomName}` : s));
  joined.on('error', (err) => setStatus('error', err.message));
  // Not fatal: the room keeps retrying the relay; say why it is not back yet.
  joined.on('relay-refused', (err) => setStatus('connecting', `${refusalText(err.code)}, retrying…`));

  lobby = new Lobby(joined, savedName);
  lobby.onChange(renderLobby);
  joined.on('peer-joined', renderLobby);
  joined.on('peer-left', renderLobby);
  renderLobby();
  const nameInput = $<HTMLInputElement>('name');
  nameInput.value = savedName;
  nameInput.addEventListener('change', () => {
    const name = nameInput.value.trim() || savedName;
    writeStored(storage, NAME_KEY, name);
    lobby!.set({ name });
  });
  $('ready').addEventListener('click', () => lobby!.set({ ready: !lobby!.me.ready }));
  $('share').addEventListener('click', () => void copyLink(location.href, $('share')));

  // Keyboard, on-screen pad and swipes all steer the same rider.
  const steering = createSteering();
  bindKeyboard(window, steering);
  bindTouchPad($('pad'), steering);
  bindSwipes($('arena'), steering);
  const s = createLockstepSession({ room: joined, game: lightCycles, inputDelay: 'auto', hashEvery: 10, input: steering.sample });
  session = s;
  $('start').addEventListener('click', () => {
    if (s.status !== 'lobby' || lobby!.gameRunning) return;
    s.start({ players: lobby!.readyPlayers() });
  });
  s.on('rejoining', ({ reason }) => {
    rejoins.push(reason.code);
    // The session is taking this page back to the lobby to be admitted again with a fresh
    // snapshot (it fell far behind, or lost its link to a player); the game goes on.
    setStatus('connecting', `catching up with the game (${reason.code})…`);
  });
  s.on('started', () => {
    if (joined.status === 'connected') setStatus('connected', `room ${roomName}`);
    lobby!.markPlaying();
    void showArena();
  });
  s.on('frame', () => {
    if (!s.state) return;
    arena?.draw(s.state, (id) => lobby!.nameOf(id), joined.selfId);
  });
  s.on('desync', (d) => {
    lastDesync = d.frame;
    console.error(`desync at frame ${d.frame}`, d.hashes);
  });
  s.on('stopped', ({ reason }) => setStatus('error', `game stopped: ${reason}`));
  showSessionNotices(s, (id) => lobby!.nameOf(id), setStatus);

  setInterval(() => {
    if (s.status === 'running' || s.status === 'joining') {
      $('overlay').textContent = formatOverlay(s.stats(), (id) => lobby!.nameOf(id), lastDesync);
      if (s.state) renderScores(s.state);
    }
  }, 250);
}

void main();

/** For the e2e test and the console: the game at a glance. */
(window as unknown as Record<string, unknown>).__meshpartyGame = {
  selfId: () => room?.selfId,
  peers: () => room?.peers.size ?? 0,
  status: () => session?.status ?? 'connecting',
  isHost: () => lobby?.isHost ?? false,
  frame: () => session?.frame ?? 0,
  /** This page's hash of a hashed frame (every 10th), or undefined. */
  hashAt: (frame: number) => session?.hashAt(frame),
  /** The latest hashed frame and its hash. */
  hash: () => {
    const f = Math.floor((session?.frame ?? 0) / 10) * 10;
    return { frame: f, hash: session?.hashAt(f) };
  },
  desyncs: () => session?.stats().desyncs ?? 0,
  /** The `reason.code` of each `rejoining` this page had, oldest first. */
  rejoins: () => [...rejoins],
  /** This page's rider: heading, the turn it has queued, alive; undefined before a game. */
  rider: () => {
    const c = session?.state?.cycles.find((x) => x.id === room?.selfId);
    return c && { dir: c.dir, next: c.next, alive: c.alive };
  },
  /** The game's phase (countdown, play, over). */
  phase: () => session?.state?.phase,
  stalls: () => session?.stats().stalls ?? 0,
};
