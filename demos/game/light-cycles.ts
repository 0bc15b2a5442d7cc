/**
 * Light cycles: the demo game's simulation. Pure and integer-only (grid cells, frame
 * counters, the state's own RNG), so every peer computes identical frames; Phaser in
 * main.ts only draws this state.
 *
 * Rules: each player rides a cycle that leaves a wall behind it. Turn with the arrows
 * (no reversing), hold fire to boost while the boost meter lasts. Hitting a wall, a
 * trail or another head ends your round; the last rider standing scores a point. A
 * player who joins mid-round waits for the next round; one who leaves is removed.
 */
import { ByteReader, ByteWriter, bitfieldInput, defineGame, rngInt, rngSeed, type Buttons, type PeerId, type StepContext } from '../../src/index.js';

export const GRID_W = 96;
export const GRID_H = 64;
export const MAX_CYCLES = 8;
/** Frames between moves at normal speed and while boosting (60 Hz: 15 and 30 cells/s). */
const MOVE_EVERY = 4;
const BOOST_EVERY = 2;
const BOOST_MAX = 90;
const COUNTDOWN = 120;
const ROUND_OVER = 150;

export const lightCyclesInput = bitfieldInput(['up', 'down', 'left', 'right', 'fire'] as const);
export type CycleInput = Buttons<'up' | 'down' | 'left' | 'right' | 'fire'>;

/** 0 up, 1 right, 2 down, 3 left. */
export type Dir = 0 | 1 | 2 | 3;
const DX = [0, 1, 0, -1] as const;
const DY = [-1, 0, 1, 0] as const;

export interface Cycle {
  id: PeerId;
  /** Colour slot 0..7; stable for as long as the player stays. */
  slot: number;
  x: number;
  y: number;
  dir: Dir;
  /** Direction to take at the next move (turns between moves are queued here). */
  next: Dir;
  alive: boolean;
  /** Joined mid-round (or no free slot): watches until the next round. */
  waiting: boolean;
  boost: number;
  /** Frames since the last move. */
  sub: number;
  score: number;
}

export type Phase = 'countdown' | 'play' | 'over';
const PHASES: Phase[] = ['countdown', 'play', 'over'];

export interface LightCyclesState {
  rng: number;
  round: number;
  phase: Phase;
  /** Frames left in the countdown / round-over pause. */
  timer: number;
  /** Slot of the last round's winner + 1, 0 for none. */
  winner: number;
  /** One cell per byte: 0 empty, slot + 1 for a trail. */
  grid: Uint8Array;
  cycles: Cycle[];
}

/** Spawn points (x, y, dir), spread around the arena. */
const SPAWNS: ReadonlyArray<readonly [number, number, Dir]> = [
  [12, 12, 1], [GRID_W - 13, GRID_H - 13, 3], [GRID_W - 13, 12, 2], [12, GRID_H - 13, 0],
  [GRID_W >> 1, 6, 2], [GRID_W >> 1, GRID_H - 7, 0], [6, GRID_H >> 1, 1], [GRID_W - 7, GRID_H >> 1, 3],
];

function freeSlot(cycles: readonly Cycle[]): number {
  for (let s = 0; s < MAX_CYCLES; s++) if (!cycles.some((c) => c.slot === s)) return s;
  return -1;
}

function addCycle(state: LightCyclesState, id: PeerId, waiting: boolean): void {
  const slot = freeSlot(state.cycles);
  state.cycles.push({ id, slot, x: 0, y: 0, dir: 0, next: 0, alive: false, waiting: waiting || slot < 0, boost: BOOST_MAX, sub: 0, score: 0 });
}

function startRound(state: LightCyclesState): void {
  state.grid.fill(0);
  state.round++;
  state.phase = 'countdown';
  state.timer = COUNTDOWN;
  // Shuffle spawn points with the state's RNG (Fisher-Yates, integer maths).
  const order = SPAWNS.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const [j, rng] = rngInt(state.rng, i + 1);
    state.rng = rng;
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let k = 0;
  for (const c of state.cycles) {
    if (c.slot < 0) {
      c.slot = freeSlot(state.cycles);
      if (c.slot < 0) continue;
    }
    const [x, y, dir] = SPAWNS[order[k++ % order.length]!]!;
    Object.assign(c, { x, y, dir, next: dir, alive: true, waiting: false, boost: BOOST_MAX, sub: 0 });
    state.grid[y * GRID_W + x] = c.slot + 1;
  }
}

function init(seed: number, players: readonly PeerId[]): LightCyclesState {
  const state: LightCyclesState = { rng: rngSeed(seed), round: 0, phase: 'countdown', timer: 0, winner: 0, grid: new Uint8Array(GRID_W * GRID_H), cycles: [] };
  for (const p of players) addCycle(state, p, false);
  startRound(state);
  return state;
}

function turn(c: Cycle, input: CycleInput): void {
  const want: Dir | -1 = input.up ? 0 : input.right ? 1 : input.down ? 2 : input.left ? 3 : -1;
  // No reversing into your own trail.
  if (want >= 0 && want !== ((c.dir + 2) & 3)) c.next = want as Dir;
}

function move(state: LightCyclesState, inputs: ReadonlyMap<PeerId, CycleInput>): void {
  const movers: Cycle[] = [];
  for (const c of state.cycles) {
    if (!c.alive) continue;
    const input = inputs.get(c.id) ?? lightCyclesInput.neutral;
    turn(c, input);
    const boosting = input.fire && c.boost > 0;
    if (boosting) c.boost--;
    else if (c.boost < BOOST_MAX && (c.sub & 1) === 0) c.boost++;
    c.sub++;
    if (c.sub >= (boosting ? BOOST_EVERY : MOVE_EVERY)) {
      c.sub = 0;
      c.dir = c.next;
      movers.push(c);
    }
  }
  // Decide every crash before writing any trail, so the outcome does not depend on order.
  const targets = movers.map((c) => [c.x + DX[c.dir], c.y + DY[c.dir]] as const);
  const crashed = movers.map((_, i) => {
    const [x, y] = targets[i]!;
    if (x < 0 || y < 0 || x >= GRID_W || y >= GRID_H) return true;
    if (state.grid[y * GRID_W + x] !== 0) return true;
    return targets.some(([ox, oy], j) => j !== i && ox === x && oy === y);
  });
  movers.forEach((c, i) => {
    if (crashed[i]) {
      c.alive = false;
      return;
    }
    const [x, y] = targets[i]!;
    c.x = x;
    c.y = y;
    state.grid[y * GRID_W + x] = c.slot + 1;
  });
}

function step(state: LightCyclesState, inputs: ReadonlyMap<PeerId, CycleInput>, ctx: StepContext): LightCyclesState {
  for (const id of ctx.left) {
    const i = state.cycles.findIndex((c) => c.id === id);
    if (i < 0) continue;
    const slot = state.cycles[i]!.slot + 1;
    state.cycles.splice(i, 1);
    for (let k = 0; k < state.grid.length; k++) if (state.grid[k] === slot) state.grid[k] = 0;
  }
  for (const id of ctx.joined) if (!state.cycles.some((c) => c.id === id)) addCycle(state, id, true);

  const inRound = state.cycles.filter((c) => !c.waiting && c.slot >= 0);
  if (state.phase === 'countdown') {
    for (const c of state.cycles) if (c.alive) turn(c, inputs.get(c.id) ?? lightCyclesInput.neutral);
    if (--state.timer <= 0) state.phase = 'play';
  } else if (state.phase === 'play') {
    move(state, inputs);
    const alive = inRound.filter((c) => c.alive);
    const over = inRound.length > 1 ? alive.length <= 1 : alive.length === 0;
    if (over) {
      const w = alive[0];
      if (w && inRound.length > 1) w.score++;
      state.winner = w && inRound.length > 1 ? w.slot + 1 : 0;
      state.phase = 'over';
      state.timer = ROUND_OVER;
    }
  } else if (--state.timer <= 0) {
    startRound(state);
  }
  return state;
}

function serialize(s: LightCyclesState): Uint8Array {
  const w = new ByteWriter(GRID_W * GRID_H + 256);
  w.u32(s.rng).varint(s.round).u8(PHASES.indexOf(s.phase)).varint(s.timer).u8(s.winner).raw(s.grid);
  w.u8(s.cycles.length);
  for (const c of s.cycles) {
    w.string(c.id).u8(c.slot + 1).u8(c.x).u8(c.y).u8(c.dir | (c.next << 2) | (c.alive ? 16 : 0) | (c.waiting ? 32 : 0));
    w.u8(c.boost).u8(c.sub).varint(c.score);
  }
  return w.finish();
}

function deserialize(b: Uint8Array): LightCyclesState {
  const r = new ByteReader(b);
  const rng = r.u32();
  const round = r.varint();
  const phase = PHASES[r.u8()] ?? 'play';
  const timer = r.varint();
  const winner = r.u8();
  const grid = r.raw(GRID_W * GRID_H).slice();
  const cycles = Array.from({ length: r.u8() }, (): Cycle => {
    const id = r.string();
    const slot = r.u8() - 1;
    const x = r.u8();
    const y = r.u8();
    const bits = r.u8();
    return { id, slot, x, y, dir: (bits & 3) as Dir, next: ((bits >> 2) & 3) as Dir, alive: (bits & 16) !== 0, waiting: (bits & 32) !== 0, boost: r.u8(), sub: r.u8(), score: r.varint() };
  });
  r.end();
  return { rng, round, phase, timer, winner, grid, cycles };
}

/**
 * The light-cycles game definition.
 *
 * @example
 * ```ts
 * const session = createLockstepSession({ room, game: lightCycles });
 * ```
 */
export const lightCycles = defineGame<LightCyclesState, CycleInput>({ name: 'light-cycles', input: lightCyclesInput, init, step, serialize, deserialize });
