/**
 * The video demo: a call in a room. Camera and mic go to every peer with meshparty's
 * media share (peer to peer; the relay only introduces peers), each stream is a tile laid
 * out with layoutTiles. Uses only meshparty's public API.
 *
 * Open `video/#room=NAME` (add `&password=...` for encrypted signaling) in two windows;
 * without a room the page makes one up, and its link is the invite.
 */
import { createMediaShare, joinRoom, MeshpartyError, type MediaShare, type Room, type RoomStatus } from '../../src/index.js';
import { errorText, refusalText } from '../shared/error-text.js';
import { relayUrl } from '../shared/relay-url.js';
import { copyLink } from '../shared/copy-link.js';
import { watchRoomProblem } from '../shared/room-problem.js';
import { readRoomLink } from '../shared/room-link.js';
import { openCamera, pickScreen, type MediaProblem } from './local-media.js';
import { bindDevicePicker } from './device-picker.js';
import { TileGrid } from './tile-grid.js';
import { watchViewSize } from './view-size.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  status: $('status'),
  peerCount: $('peer-count'),
  peerWord: $('peer-word'),
  selfId: $('self-id'),
  share: $<HTMLButtonElement>('share'),
  mic: $<HTMLButtonElement>('mic'),
  camera: $<HTMLButtonElement>('camera'),
  screen: $<HTMLButtonElement>('screen'),
  cameraSelect: $<HTMLSelectElement>('camera-select'),
  micSelect: $<HTMLSelectElement>('mic-select'),
  flip: $<HTMLButtonElement>('flip'),
  error: $('error'),
  cameraError: $('camera-error'),
  screenError: $('screen-error'),
  tiles: $('tiles'),
  alone: $('alone'),
};

const link = readRoomLink(location, history, 'call');
const relay = relayUrl(location);
const grid = new TileGrid(ui.tiles, () => (ui.alone.hidden = grid.remoteCount() > 0));
// Another room's link pasted into this tab changes only the hash: start over in that room.
addEventListener('hashchange', () => location.reload());
ui.share.onclick = () => void copyLink(location.href, ui.share);

const STATUS_TEXT: Record<RoomStatus, string> = {
  connecting: 'connecting to the relay…',
  connected: 'connected',
  reconnecting: 'relay lost, reconnecting… (calls in progress go on)',
  closed: 'left the room',
};

function showStatus(state: RoomStatus, text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function showBanner(el: HTMLElement, problem: { code: string; text: string } | null): void {
  el.hidden = problem === null;
  el.dataset.code = problem?.code ?? '';
  el.textContent = problem?.text ?? '';
}

function showPeerCount(r: Room): void {
  ui.peerCount.textContent = String(r.peers.size);
  ui.peerWord.textContent = r.peers.size === 1 ? 'peer' : 'peers';
}

/**
 * What our camera stream has muted, and where it is shared (once the room is joined):
 * muting goes through the media share so peers can show "camera off", not a black tile.
 */
const cameraMute = {
  muted: { audio: false, video: false },
  shared: null as { media: MediaShare; stream: MediaStream } | null,
  apply(stream: MediaStream): void {
    try {
      // setMuted sets the tracks and tells the peers.
      if (this.shared) return this.shared.media.setMuted(this.shared.stream, this.muted);
    } catch {
      // The room closed and took the share with it (bad-argument): the tracks alone, below.
    }
    for (const t of stream.getTracks()) t.enabled = !this.muted[t.kind as 'audio' | 'video'];
  },
};

/** A toggle for one kind of our camera stream's tracks (mute the mic, turn the camera off). */
function bindTrackToggle(button: HTMLButtonElement, stream: MediaStream, kind: 'audio' | 'video', onText: string, offText: string): void {
  const tracks = kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks();
  if (tracks.length === 0) return; // nothing to mute: the button stays disabled
  button.disabled = false;
  button.onclick = () => {
    // Silence / black frames: no renegotiation, the tile stays; peers are told.
    const off = button.getAttribute('aria-pressed') !== 'true';
    cameraMute.muted = { ...cameraMute.muted, [kind]: off };
    cameraMute.apply(stream);
    button.setAttribute('aria-pressed', String(off));
    button.textContent = off ? offText : onText;
  };
}

/**
 * A camera or mic unplugged (or taken by the system) ends its tracks. The media share tells
 * the others (camera off or mic off; the tile goes with the last track); this page says so,
 * disables the button of what is gone, and drops our own tile with the last track, not
 * leaving it frozen as if we were still seen.
 */
function watchUnplugged(stream: MediaStream, key: string): (track: MediaStreamTrack) => void {
  const gone = (tracks: MediaStreamTrack[]) => tracks.length > 0 && tracks.every((t) => t.readyState === 'ended');
  const onEnded = () => {
    const [camera, mic, all] = [gone(stream.getVideoTracks()), gone(stream.getAudioTracks()), gone(stream.getTracks())];
    if (!camera && !mic) return;
    if (camera) ui.camera.disabled = true;
    if (mic) ui.mic.disabled = true;
    if (all) grid.remove(key);
    const what = camera && mic ? 'camera and microphone' : camera ? 'camera' : 'microphone';
    const effect = all ? 'the others no longer see or hear you' : camera ? 'the others see you as camera off' : 'the others no longer hear you';
    showBanner(ui.cameraError, { code: 'camera-ended', text: `Your ${what} stopped (unplugged, or taken by another app): ${effect}. Pick another from the list, or reload to start again.` });
  };
  const watch = (t: MediaStreamTrack) => t.addEventListener('ended', onEnded);
  for (const t of stream.getTracks()) watch(t);
  return watch;
}

/**
 * Another camera or mic picked (or the camera flipped): the new track takes the old one's
 * place with media.replaceTrack, so the others keep our tile and see the new picture with
 * no renegotiation; before the room is joined (or after it closed) only our stream changes.
 * Once camera and mic had both ended (unplugged) the stream was no longer shared: the new
 * device shares it again, and our tile comes back, here and at the others.
 */
function bindDeviceSwitch(stream: MediaStream, watch: (track: MediaStreamTrack) => void): void {
  bindDevicePicker(navigator.mediaDevices, stream, ui, {
    async switchTrack(oldTrack, next) {
      const kind = next.kind as 'audio' | 'video';
      const swapHere = () => {
        stream.removeTrack(oldTrack);
        stream.addTrack(next);
        next.enabled = !cameraMute.muted[kind];
      };
      const shared = cameraMute.shared;
      if (!shared) swapHere();
      else {
        try {
          // Swaps it in our stream too (our tile follows) and keeps it muted if it was.
          await shared.media.replaceTrack(stream, oldTrack, next);
        } catch (err) {
          // Camera and mic both unplugged: the media share stopped sharing the stream when
          // its last track ended (bad-argument), so there is nothing at the peers to replace.
          const unshared = err instanceof MeshpartyError && err.code === 'bad-argument' && stream.getTracks().every((t) => t.readyState === 'ended');
          if (!unshared && !(err instanceof MeshpartyError && err.code === 'closed')) throw err;
          swapHere();
          // Shared again, with the new track.
          if (unshared) publishCamera(shared.media, stream);
        }
      }
      watch(next);
      // Our own tile went with the last track: back with the new one.
      showOwnCamera(stream);
      if (kind === 'video') grid.setMirrored(`self/${stream.id}`, next.getSettings().facingMode !== 'environment');
      // A device that had been unplugged is replaced: its button works again.
      (kind === 'video' ? ui.camera : ui.mic).disabled = false;
      if (ui.cameraError.dataset.code === 'camera-ended') showBanner(ui.cameraError, null);
    },
    problem: (problem) => {
      if (problem || ui.cameraError.dataset.code === 'switch-failed') showBanner(ui.cameraError, problem);
    },
  });
}

/** Our camera stream's tile (no change when it shows already). */
function showOwnCamera(stream: MediaStream): void {
  grid.add(`self/${stream.id}`, { peerId: 'self', stream, label: 'camera', self: true, caption: 'you · camera' });
}

/**
 * Share our camera stream with the peers (again, once its tracks had all ended and a new
 * device came), and tell them what is muted. A share destroyed with its room (`closed`)
 * leaves the stream ours alone.
 */
function publishCamera(media: MediaShare, stream: MediaStream): void {
  try {
    media.publish(stream, { label: 'camera' });
    cameraMute.shared = { media, stream };
  } catch (err) {
    if (!(err instanceof MeshpartyError && err.code === 'closed')) throw err;
    return;
  }
  cameraMute.apply(stream);
}

/** Camera and mic, asked for at once so the prompt shows while the room is joined. */
const cameraReady: Promise<MediaStream | null> = openCamera(navigator.mediaDevices).then(({ stream, problem }) => {
  if (problem) showBanner(ui.cameraError, problem);
  if (stream) {
    // A kind we have no device for is as good as off: the others mark the tile "camera
    // off" or "mic off" instead of showing a black picture with no word of why.
    cameraMute.muted = { audio: stream.getAudioTracks().length === 0, video: stream.getVideoTracks().length === 0 };
    showOwnCamera(stream);
    bindTrackToggle(ui.mic, stream, 'audio', 'Mute mic', 'Unmute mic');
    bindTrackToggle(ui.camera, stream, 'video', 'Camera off', 'Camera on');
    bindDeviceSwitch(stream, watchUnplugged(stream, `self/${stream.id}`));
  }
  return stream;
});

/** Screen sharing, on and off from the one button; a refused picker is a message, not a crash. */
function bindScreenShare(media: MediaShare): void {
  let stop: (() => void) | null = null;
  ui.screen.disabled = false;
  ui.screen.onclick = async () => {
    if (stop) return stop();
    ui.screen.disabled = true; // one picker at a time
    const picked = await pickScreen(navigator.mediaDevices);
    ui.screen.disabled = false;
    if ('problem' in picked) return showBanner(ui.screenError, picked.problem);
    showBanner(ui.screenError, null);
    const { stream } = picked;
    let unpublish: () => void;
    try {
      unpublish = media.publish(stream, { label: 'screen' });
    } catch (err) {
      for (const t of stream.getTracks()) t.stop();
      return showBanner(ui.screenError, { code: 'screen-failed', text: `The screen could not be shared (${(err as Error).message}).` });
    }
    const key = `self/${stream.id}`;
    grid.add(key, { peerId: 'self', stream, label: 'screen', self: true, caption: 'you · screen' });
    stop = () => {
      stop = null;
      unpublish();
      for (const t of stream.getTracks()) t.stop();
      grid.remove(key);
      ui.screen.setAttribute('aria-pressed', 'false');
      ui.screen.textContent = 'Share screen';
    };
    // The browser's own "Stop sharing" ends the track: the media share stops by itself, the tile goes here.
    for (const t of stream.getTracks()) t.addEventListener('ended', () => stop?.());
    ui.screen.setAttribute('aria-pressed', 'true');
    ui.screen.textContent = 'Stop sharing screen';
  };
}

function bindRoom(room: Room, media: MediaShare): void {
  room.on('status', (s) => {
    showStatus(s, STATUS_TEXT[s]);
    if (s === 'reconnecting') showBanner(ui.error, { code: 'relay-reconnecting', text: `The relay at ${relay} is unreachable; retrying. Calls with peers already here go on.` });
    else if (s === 'connected' && ui.error.dataset.code === 'relay-reconnecting') showBanner(ui.error, null);
    showPeerCount(room);
  });
  room.on('relay-refused', (err) => showBanner(ui.error, { code: 'relay-reconnecting', text: `${refusalText(err.code)} Retrying; calls with peers already here go on.` }));
  // What is wrong with the room now, in words, for as long as it applies (room-problem.ts).
  watchRoomProblem(room, relay, (problem) => {
    if (problem) showBanner(ui.error, problem);
    else if (ui.error.dataset.code !== 'relay-reconnecting') showBanner(ui.error, null);
  });
  room.on('peer-joined', () => showPeerCount(room));
  room.on('peer-left', () => showPeerCount(room));

  const keyOf = (peerId: string, stream: MediaStream) => `${peerId}/${stream.id}`;
  /** Each remote tile's size watch: the peer encodes its stream for the size we show it at. */
  const sizeWatches = new Map<string, () => void>();
  media.on('stream-added', ({ peerId, stream, label, muted }) => {
    const key = keyOf(peerId, stream);
    grid.add(key, { peerId, stream, label, self: false, caption: `${peerId.slice(0, 8)} · ${label || 'stream'}` });
    grid.setMuted(key, muted);
    const video = grid.videoOf(key);
    if (video && !sizeWatches.has(key)) sizeWatches.set(key, watchViewSize(video, (size) => media.setViewSize(peerId, stream, size)));
  });
  media.on('stream-updated', ({ peerId, stream, muted }) => grid.setMuted(keyOf(peerId, stream), muted));
  media.on('stream-removed', ({ peerId, stream }) => {
    const key = keyOf(peerId, stream);
    sizeWatches.get(key)?.();
    sizeWatches.delete(key);
    grid.remove(key);
  });
  // A peer's bad message or a media connection restarting: worth a log line, not a banner.
  media.on('error', (err) => console.warn(`video: ${err.code}: ${err.message}`));
  addEventListener('pagehide', () => {
    media.destroy();
    void room.leave();
  });
}

async function start(): Promise<void> {
  showStatus('connecting', STATUS_TEXT.connecting);
  let room: Room;
  try {
    room = await joinRoom({ relay, room: link.room, ...(link.password ? { password: link.password } : {}) });
  } catch (err) {
    const e = err instanceof MeshpartyError ? err : new MeshpartyError('join-failed', String(err));
    showStatus('closed', 'not joined');
    // Out of attempts because the relay kept turning us away: say that, not "unreachable".
    const refusal = e.code === 'relay-unreachable' ? e.detail?.lastRefusal : undefined;
    showBanner(ui.error, { code: e.code, text: typeof refusal === 'string' ? `${refusalText(refusal)} Reload to try again.` : errorText(e.code, e.message, relay) });
    return;
  }
  document.title = `${link.room} · meshparty video`;
  ui.selfId.textContent = room.selfId;
  const media = createMediaShare(room);
  bindRoom(room, media);
  bindScreenShare(media);
  showStatus(room.status, STATUS_TEXT[room.status]);
  showPeerCount(room);
  const camera = await cameraReady;
  // Muted before the room was joined: the peers are told now.
  if (camera && room.status !== 'closed') publishCamera(media, camera);
}

void start();
