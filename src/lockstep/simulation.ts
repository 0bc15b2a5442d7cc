/**
 * The engine core shared by the session, replays and sync-test: a state, its frame
 * number and the ordered list of active players, advanced one frame at a time with
 * already-agreed inputs. No I/O and no time.
 */
import type { PeerId } from '../mesh/types.js';
import type { Game, StepContext } from './game.js';

/**
 * One stepped frame as the engine consumed it (what a replay stores).
 *
 * @example
 * ```ts
 * const sim = Simulation.start(game, 42, ['a', 'b'], 0, (f: SteppedFrame) => log.push(f.frame, f.players.length));
 * ```
 */
export interface SteppedFrame {
  readonly frame: number;
  /** Encoded inputs, one per active player, in `players` order. */
  readonly inputs: readonly Uint8Array[];
  readonly players: readonly PeerId[];
  readonly joined: readonly PeerId[];
  readonly left: readonly PeerId[];
}

/**
 * A running simulation.
 *
 * @example
 * ```ts
 * const sim = Simulation.start(game, 42, ['a', 'b']);
 * sim.advance(new Map([['a', bytesA], ['b', bytesB]]));
 * console.log(sim.frame, game.hash(sim.state));
 * ```
 */
export class Simulation<S, I> {
  #players: PeerId[];

  constructor(
    readonly game: Game<S, I>,
    public state: S,
    public frame: number,
    players: readonly PeerId[],
    /** Called after every step with what was consumed (recording). */
    private readonly onStep?: (f: SteppedFrame) => void,
  ) {
    this.#players = [...players];
  }

  /** A fresh simulation from `game.init`. */
  static start<S, I>(game: Game<S, I>, seed: number, players: readonly PeerId[], startFrame = 0, onStep?: (f: SteppedFrame) => void): Simulation<S, I> {
    return new Simulation(game, game.init(seed >>> 0, players), startFrame, players, onStep);
  }

  /** Active players, in the agreed order. */
  get players(): readonly PeerId[] {
    return this.#players;
  }

  /** The players that will be active at the next step once `joined`/`left` apply. */
  playersAfter(joined: readonly PeerId[], left: readonly PeerId[]): PeerId[] {
    return [...this.#players.filter((p) => !left.includes(p)), ...joined.filter((p) => !this.#players.includes(p))];
  }

  /**
   * Step one frame. `inputs` must hold an encoded input for every player active at this
   * frame (after `joined`/`left` apply); a missing one is a bug in the caller and throws.
   */
  advance(inputs: ReadonlyMap<PeerId, Uint8Array>, joined: readonly PeerId[] = [], left: readonly PeerId[] = []): void {
    const players = this.playersAfter(joined, left);
    const decoded = new Map<PeerId, I>();
    const encoded: Uint8Array[] = [];
    for (const p of players) {
      const bytes = inputs.get(p);
      if (!bytes) throw new Error(`simulation: no input for ${p} at frame ${this.frame}`);
      decoded.set(p, this.game.input.decode(bytes));
      encoded.push(bytes);
    }
    const ctx: StepContext = { frame: this.frame, players, joined, left };
    this.state = this.game.step(this.state, decoded, ctx);
    this.#players = players;
    const frame = this.frame;
    this.frame++;
    this.onStep?.({ frame, inputs: encoded, players, joined, left });
  }

  hash(): number {
    return this.game.hash(this.state) >>> 0;
  }

  serialize(): Uint8Array {
    return this.game.serialize(this.state);
  }
}
