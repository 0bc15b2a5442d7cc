/**
 * Where to put N video tiles in a box: the grid (columns × rows) that makes every tile
 * as large as it can be at a fixed aspect ratio, the grid centred, the last row's
 * tiles centred when it is not full. Pure arithmetic, so an app can use it with any
 * renderer (DOM, canvas, Phaser) and it is tested exhaustively.
 */
import { MeshpartyError } from '../util/errors.js';

/**
 * Options of {@link layoutTiles}.
 *
 * @example
 * ```ts
 * const options: TileLayoutOptions = { count: 5, width: 1280, height: 720, aspectRatio: 4 / 3, gap: 4 };
 * ```
 */
export interface TileLayoutOptions {
  /** How many tiles (0 or more). */
  count: number;
  /** The box, in any unit (CSS pixels usually). */
  width: number;
  height: number;
  /** Width over height of every tile (default 16 / 9). */
  aspectRatio?: number;
  /** Space between tiles and around the grid (default 8). */
  gap?: number;
}

/**
 * One tile's place, with `x`, `y` the top-left corner inside the box.
 *
 * @example
 * ```ts
 * const { x, y, width, height }: Tile = layoutTiles({ count: 1, width: 640, height: 360 }).tiles[0]!;
 * ```
 */
export interface Tile {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The result of {@link layoutTiles}.
 *
 * @example
 * ```ts
 * const layout: TileLayout = layoutTiles({ count: 3, width: 800, height: 600 });
 * console.log(layout.columns, layout.rows, layout.tiles.length); // 2 2 3
 * ```
 */
export interface TileLayout {
  readonly columns: number;
  readonly rows: number;
  /** Every tile's size (they are all alike). */
  readonly tileWidth: number;
  readonly tileHeight: number;
  /** `count` tiles, row by row, left to right. */
  readonly tiles: readonly Tile[];
}

/**
 * Lay out `count` tiles of one aspect ratio in a `width` × `height` box, as large as they
 * fit. Throws `bad-argument` for a negative or fractional count, or a size, gap or ratio
 * that is not a finite number (negative sizes and ratios included).
 *
 * @example
 * ```ts
 * const { tiles } = layoutTiles({ count: videos.length, width: box.clientWidth, height: box.clientHeight });
 * tiles.forEach((t, i) => Object.assign(videos[i]!.style, { left: `${t.x}px`, top: `${t.y}px`, width: `${t.width}px`, height: `${t.height}px` }));
 * ```
 */
export function layoutTiles(options: TileLayoutOptions): TileLayout {
  const { count, width, height, aspectRatio = 16 / 9, gap = 8 } = options;
  if (!Number.isInteger(count) || count < 0) throw new MeshpartyError('bad-argument', `count must be a whole number >= 0, got ${count}`);
  for (const [name, value] of [['width', width], ['height', height], ['gap', gap]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new MeshpartyError('bad-argument', `${name} must be a finite number >= 0, got ${value}`);
  }
  if (!Number.isFinite(aspectRatio) || aspectRatio <= 0) throw new MeshpartyError('bad-argument', `aspectRatio must be a finite number > 0, got ${aspectRatio}`);
  if (count === 0) return { columns: 0, rows: 0, tileWidth: 0, tileHeight: 0, tiles: [] };

  let best = { columns: 1, rows: count, tileWidth: 0, tileHeight: 0 };
  for (let columns = 1; columns <= count; columns++) {
    const rows = Math.ceil(count / columns);
    // Space left for tiles once the gaps (between and around) are taken out.
    const free = { w: width - gap * (columns + 1), h: height - gap * (rows + 1) };
    if (free.w <= 0 || free.h <= 0) continue;
    const tileWidth = Math.min(free.w / columns, (free.h / rows) * aspectRatio);
    // On a tie (2 tiles in a 16:9 box fit as well side by side as stacked) follow the box's shape.
    const tie = Math.abs(tileWidth - best.tileWidth) < 1e-9 && width >= height;
    if (tileWidth > best.tileWidth + 1e-9 || tie) best = { columns, rows, tileWidth, tileHeight: tileWidth / aspectRatio };
  }
  const { columns, rows, tileWidth, tileHeight } = best;
  const gridHeight = rows * tileHeight + (rows - 1) * gap;
  const top = (height - gridHeight) / 2;
  const tiles: Tile[] = [];
  for (let i = 0; i < count; i++) {
    const row = Math.floor(i / columns);
    const inRow = row === rows - 1 ? count - row * columns : columns;
    const rowWidth = inRow * tileWidth + (inRow - 1) * gap;
    const left = (width - rowWidth) / 2;
    tiles.push({ x: left + (i % columns) * (tileWidth + gap), y: top + row * (tileHeight + gap), width: tileWidth, height: tileHeight });
  }
  return { columns, rows, tileWidth, tileHeight, tiles };
}
