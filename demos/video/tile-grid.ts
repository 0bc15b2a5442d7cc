/**
 * The video tiles: one per stream (ours first, then the others' as they arrive), placed
 * by meshparty's layoutTiles as large as they fit, again whenever a tile comes or goes
 * or the area changes size.
 */
import { layoutTiles } from '../../src/index.js';
import { startPlayback } from './playback.js';

export interface TileInfo {
  /** The peer sharing the stream, or our own id for our tiles. */
  peerId: string;
  stream: MediaStream;
  /** The sharer's label for it (`camera`, `screen`, anything a peer sends). */
  label: string;
  /** Ours: muted (no echo of ourselves) and mirrored like a mirror when it is the camera. */
  self: boolean;
  /** The words under the tile. */
  caption: string;
}

const GAP = 8;
const ASPECT = 4 / 3;

export class TileGrid {
  readonly #area: HTMLElement;
  readonly #tiles = new Map<string, HTMLElement>();
  readonly #onChange: () => void;

  /** `onChange` runs after tiles are added or removed (the page's empty-room hint). */
  constructor(area: HTMLElement, onChange: () => void = () => {}) {
    this.#area = area;
    this.#onChange = onChange;
    new ResizeObserver(() => this.#layout()).observe(area);
  }

  /** Show `info.stream`; a stream already shown under `key` is left as it is. */
  add(key: string, info: TileInfo): void {
    if (this.#tiles.has(key)) return;
    const tile = document.createElement('figure');
    tile.className = 'tile';
    tile.dataset.peerId = info.peerId;
    tile.dataset.label = info.label;
    tile.dataset.streamId = info.stream.id;
    if (info.self) tile.dataset.self = 'true';
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = info.self;
    video.srcObject = info.stream;
    if (info.self && info.label === 'camera') video.classList.add('mirrored');
    const caption = document.createElement('figcaption');
    caption.textContent = info.caption; // a peer's label is untrusted: text only
    const sound = document.createElement('button');
    sound.type = 'button';
    sound.className = 'sound';
    sound.hidden = true;
    sound.textContent = 'Click for sound';
    tile.append(video, caption, sound);
    this.#area.append(tile);
    this.#tiles.set(key, tile);
    startPlayback(video, sound);
    this.#layout();
    this.#onChange();
  }

  /** The video element of the tile under `key`, if shown. */
  videoOf(key: string): HTMLVideoElement | undefined {
    return this.#tiles.get(key)?.querySelector('video') ?? undefined;
  }

  /** Mirror our own camera's picture (like a mirror) or not (a phone's back camera: text must read right). */
  setMirrored(key: string, mirrored: boolean): void {
    this.#tiles.get(key)?.querySelector('video')?.classList.toggle('mirrored', mirrored);
  }

  /** Mark what the sharer of `key` has muted: the tile shows "camera off" / a muted mic. */
  setMuted(key: string, muted: { audio: boolean; video: boolean }): void {
    const tile = this.#tiles.get(key);
    if (!tile) return;
    const kinds = (['audio', 'video'] as const).filter((k) => muted[k]);
    if (kinds.length > 0) tile.dataset.muted = kinds.join(' ');
    else delete tile.dataset.muted;
  }

  remove(key: string): void {
    const tile = this.#tiles.get(key);
    if (!tile) return;
    this.#tiles.delete(key);
    const video = tile.querySelector('video');
    if (video) video.srcObject = null;
    tile.remove();
    this.#layout();
    this.#onChange();
  }

  /** How many tiles show streams of others. */
  remoteCount(): number {
    return [...this.#tiles.values()].filter((t) => t.dataset.self !== 'true').length;
  }

  #layout(): void {
    const tiles = [...this.#tiles.values()];
    const { clientWidth: width, clientHeight: height } = this.#area;
    // A hidden or collapsed area measures 0: nothing to place until it has a size.
    if (width <= 0 || height <= 0) return;
    const layout = layoutTiles({ count: tiles.length, width, height, aspectRatio: ASPECT, gap: GAP });
    tiles.forEach((tile, i) => {
      const place = layout.tiles[i];
      if (!place) return;
      Object.assign(tile.style, { left: `${place.x}px`, top: `${place.y}px`, width: `${place.width}px`, height: `${place.height}px` });
    });
  }
}
