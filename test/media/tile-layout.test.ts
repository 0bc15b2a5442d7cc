import { describe, expect, it } from 'vitest';
import { layoutTiles, type Tile } from '../../src/media/tile-layout.js';

const overlaps = (p: Tile, q: Tile) => p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height;
const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;

describe('layoutTiles', () => {
  it('picks the grid a person would: one big tile, side by side, 2 × 2, 3 × 2', () => {
    const box = { width: 1280, height: 720, gap: 0 };
    expect(layoutTiles({ ...box, count: 1 })).toMatchObject({ columns: 1, rows: 1, tileWidth: 1280, tileHeight: 720 });
    expect(layoutTiles({ ...box, count: 2 })).toMatchObject({ columns: 2, rows: 1, tileWidth: 640 });
    expect(layoutTiles({ ...box, count: 4 })).toMatchObject({ columns: 2, rows: 2, tileWidth: 640 });
    expect(layoutTiles({ ...box, count: 6 })).toMatchObject({ columns: 3, rows: 2 });
    // A tall phone screen stacks them instead.
    expect(layoutTiles({ width: 390, height: 844, gap: 0, count: 3 })).toMatchObject({ columns: 1, rows: 3, tileWidth: 390 });
  });

  it('centres a last row that is not full', () => {
    const { tiles, tileWidth } = layoutTiles({ width: 1000, height: 600, gap: 10, count: 3, aspectRatio: 16 / 9 });
    const [a, b, c] = tiles as [Tile, Tile, Tile];
    expect(a.y).toBe(b.y);
    expect(c.y).toBeGreaterThan(a.y);
    // The lone tile of the last row sits in the middle.
    expect(close(c.x + tileWidth / 2, 500)).toBe(true);
  });

  it('for every count up to 40 and many boxes: tiles fit the box, keep the ratio and gaps, and never overlap', () => {
    const boxes = [
      [1280, 720],
      [720, 1280],
      [300, 200],
      [1920, 1080],
      [500, 500],
      [2000, 300],
    ] as const;
    for (const [width, height] of boxes) {
      for (const aspectRatio of [16 / 9, 4 / 3, 1, 9 / 16]) {
        for (let count = 1; count <= 40; count++) {
          const gap = 6;
          const layout = layoutTiles({ count, width, height, aspectRatio, gap });
          expect(layout.tiles).toHaveLength(count);
          expect(layout.columns * layout.rows).toBeGreaterThanOrEqual(count);
          expect(layout.columns * (layout.rows - 1)).toBeLessThan(count); // no empty row
          expect(close(layout.tileWidth / layout.tileHeight, aspectRatio)).toBe(true);
          for (const [i, t] of layout.tiles.entries()) {
            expect(t.x).toBeGreaterThanOrEqual(gap - 1e-6);
            expect(t.y).toBeGreaterThanOrEqual(gap - 1e-6);
            expect(t.x + t.width).toBeLessThanOrEqual(width - gap + 1e-6);
            expect(t.y + t.height).toBeLessThanOrEqual(height - gap + 1e-6);
            for (const u of layout.tiles.slice(i + 1)) expect(overlaps(t, u)).toBe(false);
          }
          // No other column count gives bigger tiles.
          for (let columns = 1; columns <= count; columns++) {
            const rows = Math.ceil(count / columns);
            const w = Math.min((width - gap * (columns + 1)) / columns, ((height - gap * (rows + 1)) / rows) * aspectRatio);
            expect(w).toBeLessThanOrEqual(layout.tileWidth + 1e-6);
          }
        }
      }
    }
  });

  it('no tiles for none, and zero-size tiles in a box too small for the gaps', () => {
    expect(layoutTiles({ count: 0, width: 100, height: 100 })).toEqual({ columns: 0, rows: 0, tileWidth: 0, tileHeight: 0, tiles: [] });
    const tiny = layoutTiles({ count: 3, width: 10, height: 10, gap: 8 });
    expect(tiny.tiles).toHaveLength(3);
    expect(tiny.tileWidth).toBe(0);
  });

  it('refuses what is not a layout with bad-argument', () => {
    for (const bad of [
      { count: -1, width: 100, height: 100 },
      { count: 1.5, width: 100, height: 100 },
      { count: 1, width: Number.NaN, height: 100 },
      { count: 1, width: 100, height: -5 },
      { count: 1, width: 100, height: 100, gap: Infinity },
      { count: 1, width: 100, height: 100, aspectRatio: 0 },
    ]) {
      expect(() => layoutTiles(bad)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    }
  });
});
