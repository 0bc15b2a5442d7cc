/**
 * What a game author writes: pure functions over a state. The simulation never reads a
 * clock, `Math.random`, the DOM or the network; everything it depends on is the state,
 * the inputs and the step context, so every peer computes the same frames.
 * See docs/determinism.md.
 */
import type { PeerId } from '../mesh/types.js';
import type { InputCodec } from './input.js';
import { fnv1a32 } from './hash.js';

/**
 * What `step` knows besides the state and the inputs.
 *
 * @example
 * ```ts
 * step(state, inputs, { frame, joined, left }) {
 *   for (const id of joined) state = spawn(state, id, frame);
 *   for (const id of left) state = removePlayer(state, id);
 *   return move(state, inputs);
 * }
 * ```
 */
export interface StepContext {
  /** The frame being stepped: the state passed in is the state at `frame`, the result is `frame + 1`. */
  readonly frame: number;
  /** Active players for this frame, in the agreed order (start order, then join order). */
  readonly players: readonly PeerId[];
  /** Players who join at this frame (their input is in `inputs` already). */
  readonly joined: readonly PeerId[];
  /** Players dropped at this frame (no input from them any more). */
  readonly left: readonly PeerId[];
}

/**
 * A deterministic game.
 *
 * @example
 * ```ts
 * const counter = defineGame({
 *   name: 'counter',
 *   input: bitfieldInput(['inc'] as const),
 *   init: (seed, players) => ({ n: 0 }),
 *   step: (s, inputs) => ({ n: s.n + [...inputs.values()].filter((i) => i.inc).length }),
 *   serialize: (s) => new ByteWriter().varint(s.n).finish(),
 *   deserialize: (b) => ({ n: new ByteReader(b).varint() }),
 * });
 * ```
 */
export interface GameDefinition<S, I> {
  /** A name recorded in replays (a replay of another game is refused). */
  readonly name: string;
  readonly input: InputCodec<I>;
  /** The state at frame 0 for a seed (an unsigned 32-bit integer) and the starting players. */
  init(seed: number, players: readonly PeerId[]): S;
  /**
   * The next state. `inputs` holds one input per active player, in `ctx.players` order.
   * May mutate `state` and return it, or return a new object.
   */
  step(state: S, inputs: ReadonlyMap<PeerId, I>, ctx: StepContext): S;
  /** Same state, same bytes, on every peer. */
  serialize(state: S): Uint8Array;
  deserialize(bytes: Uint8Array): S;
  /** A 32-bit hash of the state; defaults to FNV-1a over `serialize(state)`. */
  hash?(state: S): number;
}

/**
 * A game definition with `hash` always present: what {@link defineGame} returns and
 * what sessions, replays and `syncTest` take.
 *
 * @example
 * ```ts
 * const game: Game<State, Buttons<'up' | 'down'>> = defineGame({ name: 'pong', input, init, step, serialize, deserialize });
 * console.log(game.hash(game.init(42, ['a', 'b'])));
 * ```
 */
export type Game<S, I> = GameDefinition<S, I> & { hash(state: S): number };

/**
 * Check a game definition and fill in the default hash (FNV-1a of the serialized state).
 *
 * @example
 * ```ts
 * export const lightCycles = defineGame({ name: 'light-cycles', input, init, step, serialize, deserialize });
 * ```
 */
export function defineGame<S, I>(def: GameDefinition<S, I>): Game<S, I> {
  const hash = def.hash ?? ((state: S) => fnv1a32(def.serialize(state)));
  return { ...def, hash };
}
