/** Small games for lockstep tests: a deterministic one and deliberately broken ones. */
import { ByteReader, ByteWriter, bitfieldInput, defineGame, rngInt, rngSeed, type PeerId } from '../../src/index.js';

export const buttons = bitfieldInput(['up', 'down', 'left', 'right', 'fire'] as const);

/** Every player has a position moved by its buttons; the state RNG adds a random walk. */
export interface WalkState {
  rng: number;
  pos: Map<PeerId, { x: number; y: number }>;
  /** Sum of every frame number stepped, so a skipped or doubled frame changes the hash. */
  frames: number;
}

export function makeWalkGame(opts: { name?: string; divergeAt?: number; salt?: number } = {}) {
  return defineGame<WalkState, (typeof buttons)['neutral']>({
    name: opts.name ?? 'walk',
    input: buttons,
    init: (seed, players) => ({ rng: rngSeed(seed), pos: new Map(players.map((p) => [p, { x: 0, y: 0 }])), frames: 0 }),
    step(s, inputs, ctx) {
      for (const id of ctx.left) s.pos.delete(id);
      for (const id of ctx.joined) s.pos.set(id, { x: 0, y: 0 });
      for (const [id, i] of inputs) {
        const p = s.pos.get(id)!;
        const [r, rng] = rngInt(s.rng, 3);
        s.rng = rng;
        p.x += (i.right ? 1 : 0) - (i.left ? 1 : 0) + (r - 1);
        p.y += (i.down ? 1 : 0) - (i.up ? 1 : 0) + (i.fire ? 2 : 0);
      }
      s.frames += ctx.frame;
      // The deliberately broken variant: each peer adds its own salt from `divergeAt` on.
      if (opts.divergeAt !== undefined && ctx.frame === opts.divergeAt) s.frames += opts.salt ?? 0;
      return s;
    },
    serialize(s) {
      const w = new ByteWriter().u32(s.rng).varint(s.frames).varint(s.pos.size);
      for (const [id, p] of s.pos) w.string(id).svarint(p.x).svarint(p.y);
      return w.finish();
    },
    deserialize(b) {
      const r = new ByteReader(b);
      const rng = r.u32();
      const frames = r.varint();
      const pos = new Map(Array.from({ length: r.varint() }, () => [r.string(), { x: r.svarint(), y: r.svarint() }] as const));
      r.end();
      return { rng, frames, pos };
    },
  });
}

/** Deterministic pseudo-random buttons for player `index` at `frame` (changes every few frames, like a person). */
export function scriptedButtons(frame: number, index: number, seed = 7) {
  let h = Math.imul((Math.floor(frame / 9) + 1) ^ Math.imul(index + 1, 0x9e3779b1) ^ seed, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return { up: (h & 1) !== 0, down: (h & 2) !== 0 && (h & 1) === 0, left: (h & 4) !== 0, right: (h & 8) !== 0 && (h & 4) === 0, fire: (h & 48) === 48 };
}
