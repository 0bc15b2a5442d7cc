/**
 * Draws a light-cycles state with Phaser 4. Rendering only: it reads the state the
 * lockstep session produced and never changes it. Trails are one pixel per cell in a
 * canvas texture scaled up crisply (pixelArt); heads and texts are drawn on top.
 */
import * as Phaser from 'phaser';
import { GRID_H, GRID_W, type LightCyclesState } from './light-cycles.js';

export const CELL = 8;
/** One colour per slot, readable on the dark arena. */
export const SLOT_COLOURS = [0x4dd0e1, 0xff8a65, 0xaed581, 0xf06292, 0xffd54f, 0x9575cd, 0x4fc3f7, 0xe0e0e0];
const css = (c: number) => `#${c.toString(16).padStart(6, '0')}`;
export const slotCss = (slot: number) => css(SLOT_COLOURS[slot] ?? 0xffffff);

export interface ArenaView {
  /** Draw `state` (call when the session steps; cheap enough every frame). */
  draw(state: LightCyclesState, nameOf: (id: string) => string, selfId: string): void;
  destroy(): void;
}

export function createArena(parent: HTMLElement): Promise<ArenaView> {
  return new Promise((resolve) => {
    let pending: { state: LightCyclesState; nameOf: (id: string) => string; selfId: string } | undefined;
    const image = new ImageData(GRID_W, GRID_H);

    class Arena extends Phaser.Scene {
      tex!: Phaser.Textures.CanvasTexture;
      heads!: Phaser.GameObjects.Graphics;
      banner!: Phaser.GameObjects.Text;
      labels: Phaser.GameObjects.Text[] = [];

      create(): void {
        this.tex = this.textures.createCanvas('trails', GRID_W, GRID_H)!;
        this.add.image(0, 0, 'trails').setOrigin(0, 0).setScale(CELL);
        this.heads = this.add.graphics();
        this.banner = this.add.text((GRID_W * CELL) / 2, (GRID_H * CELL) / 2, '', { fontFamily: 'system-ui, sans-serif', fontSize: '32px', color: '#ffffff' }).setOrigin(0.5);
        for (let i = 0; i < 8; i++) this.labels.push(this.add.text(0, 0, '', { fontFamily: 'system-ui, sans-serif', fontSize: '12px', color: '#ffffff' }));
        resolve({
          draw: (state, nameOf, selfId) => (pending = { state, nameOf, selfId }),
          destroy: () => game.destroy(true),
        });
      }

      override update(): void {
        if (!pending) return;
        const { state, nameOf, selfId } = pending;
        pending = undefined;
        const px = image.data;
        for (let i = 0; i < state.grid.length; i++) {
          const v = state.grid[i]!;
          const c = v ? SLOT_COLOURS[v - 1]! : 0x101418;
          const k = i * 4;
          // Trails slightly darker than heads so the head stands out.
          px[k] = ((c >> 16) & 0xff) * (v ? 0.75 : 1);
          px[k + 1] = ((c >> 8) & 0xff) * (v ? 0.75 : 1);
          px[k + 2] = (c & 0xff) * (v ? 0.75 : 1);
          px[k + 3] = 255;
        }
        this.tex.context.putImageData(image, 0, 0);
        this.tex.refresh();

        this.heads.clear();
        this.labels.forEach((l) => l.setText(''));
        let li = 0;
        for (const c of state.cycles) {
          if (c.slot < 0 || c.waiting) continue;
          const colour = SLOT_COLOURS[c.slot]!;
          this.heads.fillStyle(c.alive ? 0xffffff : colour, c.alive ? 1 : 0.5);
          this.heads.fillRect(c.x * CELL - 1, c.y * CELL - 1, CELL + 2, CELL + 2);
          this.heads.fillStyle(colour, 1);
          this.heads.fillRect(c.x * CELL + 1, c.y * CELL + 1, CELL - 2, CELL - 2);
          if (state.phase === 'countdown' && li < this.labels.length) {
            this.labels[li++]!.setText(c.id === selfId ? 'you' : nameOf(c.id)).setPosition(c.x * CELL + 10, c.y * CELL - 6).setColor(slotCss(c.slot));
          }
        }
        if (state.phase === 'countdown') this.banner.setText(`Round ${state.round} — ${Math.ceil(state.timer / 60)}`);
        else if (state.phase === 'over') {
          const w = state.cycles.find((c) => c.slot + 1 === state.winner);
          this.banner.setText(w ? `${w.id === selfId ? 'You win' : `${nameOf(w.id)} wins`} the round` : 'Round over');
        } else this.banner.setText('');
      }
    }

    const game = new Phaser.Game({
      type: Phaser.AUTO,
      parent,
      width: GRID_W * CELL,
      height: GRID_H * CELL,
      backgroundColor: '#101418',
      pixelArt: true,
      scene: Arena,
      banner: false,
    });
  });
}
