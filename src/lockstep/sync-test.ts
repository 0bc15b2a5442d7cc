/**
 * Sync-test mode: checks on one machine that a game is deterministic, the way GGPO's
 * sync test does. Every frame: hash, save (serialize), step; then load the saved bytes,
 * check the loaded state hashes the same, step again with the same inputs and compare.
 * A second independent run from `init` must produce the same hash sequence (catches
 * hidden global state such as Math.random or a module-level counter).
 */
import type { PeerId } from '../mesh/types.js';
import type { Game } from './game.js';
import { Simulation } from './simulation.js';

/**
 * Options for {@link syncTest}.
 *
 * @example
 * ```ts
 * const opts: SyncTestOptions<Buttons<'fire'>> = { frames: 600, players: ['a', 'b'], seed: 3, inputs: (f, _p, i) => ({ fire: (f + i) % 7 === 0 }) };
 * ```
 */
export interface SyncTestOptions<I> {
  /** Frames to step. */
  frames: number;
  /** Players (default `['p1', 'p2']`). */
  players?: readonly PeerId[];
  seed?: number;
  /** The input of `player` at `frame` (must itself be deterministic). */
  inputs: (frame: number, player: PeerId, index: number) => I;
}

/**
 * The verdict of {@link syncTest}.
 *
 * @example
 * ```ts
 * const r: SyncTestResult = syncTest(game, opts);
 * if (!r.ok) throw new Error(`not deterministic at frame ${r.frame} (${r.reason}): ${r.expected} vs ${r.actual}`);
 * ```
 */
export type SyncTestResult =
  | { ok: true; frames: number; finalHash: number }
  | {
      ok: false;
      /** The first frame whose step is not deterministic. */
      frame: number;
      reason: 'serialize-roundtrip' | 'step-after-load' | 'second-run';
      expected: number;
      actual: number;
    };

/**
 * Check a game for determinism.
 *
 * @example
 * ```ts
 * const r = syncTest(lightCycles, { frames: 2000, players: ['a', 'b', 'c'], inputs: (f, p, i) => randomButtons(f, i) });
 * if (!r.ok) console.error(`frame ${r.frame}: ${r.reason}`);
 * ```
 */
export function syncTest<S, I>(game: Game<S, I>, opts: SyncTestOptions<I>): SyncTestResult {
  const players = opts.players ?? ['p1', 'p2'];
  const seed = opts.seed ?? 1;
  const inputsAt = (frame: number) =>
    new Map(players.map((p, i) => [p, game.input.encode(opts.inputs(frame, p, i))] as const));

  const first: number[] = [];
  const sim = Simulation.start(game, seed, players);
  for (let f = 0; f < opts.frames; f++) {
    const inputs = inputsAt(f);
    const before = sim.hash();
    const saved = sim.serialize();
    sim.advance(inputs);
    const after = sim.hash();
    first.push(after);

    const loaded = new Simulation(game, game.deserialize(saved), f, players);
    const loadedHash = loaded.hash();
    if (loadedHash !== before) return { ok: false, frame: f, reason: 'serialize-roundtrip', expected: before, actual: loadedHash };
    loaded.advance(inputs);
    const again = loaded.hash();
    if (again !== after) return { ok: false, frame: f, reason: 'step-after-load', expected: after, actual: again };
  }

  const second = Simulation.start(game, seed, players);
  for (let f = 0; f < opts.frames; f++) {
    second.advance(inputsAt(f));
    const h = second.hash();
    if (h !== first[f]) return { ok: false, frame: f, reason: 'second-run', expected: first[f]!, actual: h };
  }
  return { ok: true, frames: opts.frames, finalHash: sim.hash() };
}
