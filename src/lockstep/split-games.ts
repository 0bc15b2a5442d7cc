/**
 * A game split in two by a network outage finds itself whole again when the outage ends.
 *
 * When a player's connections to the other players all close (a wifi outage, a laptop lid,
 * a tab stopped long enough for heartbeats to time out), each side drops the other: the
 * cut-off player plays on alone, the others on without it. Once the connections open again
 * both halves run, same generation, neither listing the other; nothing else ever joins
 * them up, so the cut-off friend played alone for good (in the demo, on an arena of its
 * own, while the others saw its rider gone). Each running peer's `hello` (sent to every
 * peer as a connection opens) lists the players of its game (wire version 10): a hello from
 * a player whose admission we dropped, naming itself among players none of which are ours,
 * is the other half. The smaller half (fewer players; at equal size, the one whose
 * lowest player id is higher) gives way: each of its members goes back to the lobby
 * (`rejoining`, code `split`, announced like any departure) and is admitted into the larger
 * one. A member of the larger half answers such a hello with its own once per connection of
 * that peer and game, so the smaller half hears of it even if the hellos sent as the
 * connection opened were lost.
 *
 * Trust: only a peer we dropped from this very game can make us give way (any peer of the
 * room can send a hello), it must name itself among the players it claims, and only the
 * claimed players that are peers of the room connected to us count, so a former player
 * cannot make up a larger game. PROTOCOL.md, "Split games".
 */
import type { PeerId } from '../mesh/types.js';
import { byId, type SessionCore } from './session-core.js';
import type { Control, Kind } from './wire.js';

type Hello = Extract<Control, { kind: typeof Kind.hello }>;

/**
 * Whether a game of players `theirs` outranks ours (`ours`): more players, or as many and
 * the lower lowest id (plain code-unit order, so both halves reach the same verdict).
 *
 * @example
 * ```ts
 * outranks(['a', 'b'], ['c']); // true: two players against one
 * outranks(['b'], ['a']); // false: as many, and 'a' is lower
 * ```
 */
export function outranks(theirs: readonly PeerId[], ours: readonly PeerId[]): boolean {
  if (theirs.length !== ours.length) return theirs.length > ours.length;
  return byId([...theirs].sort(byId)[0]!, [...ours].sort(byId)[0]!) < 0;
}

export class SplitGames<S, I> {
  /**
   * Peers of the smaller half whose hello we answered in this game. Cleared with the game
   * (a rejoin keeps its generation: kept, we never answered a half of the next split of
   * it), and a peer's entry goes with its connection: our hello sent as the next one opens
   * may be lost like the first, and only an answer then tells its half of ours.
   */
  readonly #answered = new Set<PeerId>();

  constructor(private readonly c: SessionCore<S, I>) {}

  /** Our game is over for us (back to the lobby, or moved to another start). */
  forgetGame(): void {
    this.#answered.clear();
  }

  /** Our connection to `peer` closed. */
  peerLeft(peer: PeerId): void {
    this.#answered.delete(peer);
  }

  /** The players of our game that are not leaving or dropped, as our hello lists them (none unless running). */
  players(): PeerId[] {
    if (this.c.status !== 'running' || !this.c.sim) return [];
    return this.c.sim.players.filter((p) => !this.c.leaving.has(p) && !this.c.dropped.has(p));
  }

  /** A hello straight from `from` (not relayed). True when we gave way to its half and went back to the lobby. */
  onHello(from: PeerId, m: Hello): boolean {
    const theirs = m.players ?? [];
    const ours = this.players();
    if (!m.started || ours.length === 0 || !theirs.includes(from) || theirs.some((p) => ours.includes(p))) return false;
    // Only a player of this game that we dropped is evidence of a split: any room peer can say hello.
    if (![...this.c.decidedDrops.values()].some((d) => d.leaver === from)) return false;
    // Its players count only as peers of the room we are connected to: made-up ids would
    // let one former player send every member of our game (the host too) to the lobby,
    // leaving nobody running a game to admit them. Connections open one by one, so a half
    // may look smaller at first; the hello each new connection brings sees more of it.
    const counted = theirs.filter((p) => p === from || this.c.room.peers.has(p));
    if (outranks(counted, ours)) {
      const why = `${from} plays on in a game of ${counted.length} (${counted.join(', ')}) split from ours of ${ours.length} (${ours.join(', ')}) by lost connections`;
      // Alone in our half, nobody else has packets of ours or for us on this game's channels
      // (the other half's players stopped sending to us when they dropped us): the join frame
      // need not wait for our half's frames. Were we ahead of them (they were the ones
      // stopped, a frozen tab with the lower id), it waited that long, past the snapshot deadline.
      const alone = this.c.members().length === 0;
      this.c.admission.rejoin('split', why, { announce: true, detail: { by: from, players: counted }, raiseFloor: !alone });
      return true;
    }
    if (this.#answered.has(from)) return false;
    this.#answered.add(from);
    this.c.admission.sayHelloTo(from);
    return false;
  }
}
