/**
 * A game split in two by a network outage finds itself whole again when the outage ends.
 *
 * When a player's connections to the other players all close (a wifi outage, a laptop lid,
 * a tab stopped long enough for heartbeats to time out), each side drops the other: the
 * cut-off player plays on alone, the others on without it. Once the connections open again
 * both halves run, same generation, neither listing the other; nothing else ever joins
 * them up, so the cut-off friend played alone for good (in the demo, on an arena of its
 * own, while the others saw its rider gone). Each running peer's `hello` (sent to every
 * peer as a connection opens) lists the players of its game (wire version 10) and a frame
 * (11): a hello from a player whose admission we dropped, naming itself among players none
 * of which are ours, is the other half. The smaller half (fewer players) gives way: each of
 * its members goes back to the lobby (`rejoining`, code `split`, announced like any
 * departure) and is admitted into the larger one. A member of the larger half answers such
 * a hello with its own once per connection of that peer and game (and again when the frame
 * it says changes), so the smaller half hears of it even if the hellos sent as the
 * connection opened were lost.
 *
 * At equal size the half that kept playing wins. Which one kept playing shows in how far
 * each got, as the two met again: a half whose tab was stopped (or whose page was hidden,
 * stepping once a second while alone) is seconds of frames behind one that played on. Both
 * members of a pair must judge the same two numbers, though frames move on while hellos
 * travel: so the frame each says is fixed, its frame as it first met that peer again after
 * dropping it (the first hello to or from it over a connection: both ends take it within a
 * round trip of each other), and every later hello to that peer says the same. One ahead
 * by more than a lead wins, else the lower lowest id, as before (two halves that both played
 * through an outage, where it is moot which one wins). The lead is a quarter of a second
 * (tickHz / 4 frames) with one player a side: the two players judge the very same numbers,
 * and a half stopped for a few seconds is that far behind even on a machine stepping 10
 * frames a second. With more players a side, each pair of members judges its own meeting,
 * and pairs can disagree when the halves are about a lead apart (some members of each half
 * would give way): a second (tickHz frames) puts that past the few hundred milliseconds by
 * which halves that both played on differ (which end noticed the outage first), where the
 * ids keep every pair agreeing. A hello sent before the sender dropped us says its
 * current frame, which only grows: judged on it, we never both give way, and if neither
 * does, the winner's answer (sent when the frame it heard changes) carries its fixed frame.
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
 * One half of a split game as a hello tells it: its players, and its frame as the halves met again.
 *
 * @example
 * ```ts
 * const them: Half = { players: hello.players ?? [], frame: hello.frame ?? 0 };
 * ```
 */
export interface Half {
  players: readonly PeerId[];
  frame: number;
}

/**
 * Whether half `theirs` outranks ours (`ours`) in a game of `tickHz`: more players; or as
 * many and further ahead by more than the lead (it kept playing while ours was stopped: a
 * quarter of a second with one player a side, a second with more); or as many, within the
 * lead, and the lower lowest id (plain code-unit order). Both halves judge the same two
 * halves alike.
 *
 * @example
 * ```ts
 * outranks({ players: ['a', 'b'], frame: 0 }, { players: ['c'], frame: 900 }, 60); // true: two players against one
 * outranks({ players: ['b'], frame: 900 }, { players: ['a'], frame: 500 }, 60); // true: b played on, 400 frames further
 * outranks({ players: ['b'], frame: 510 }, { players: ['a'], frame: 500 }, 60); // false: within 15 frames, and 'a' is lower
 * ```
 */
export function outranks(theirs: Half, ours: Half, tickHz: number): boolean {
  if (theirs.players.length !== ours.players.length) return theirs.players.length > ours.players.length;
  const lead = ours.players.length === 1 ? Math.ceil(tickHz / 4) : tickHz;
  if (Math.abs(theirs.frame - ours.frame) > lead) return theirs.frame > ours.frame;
  return byId([...theirs.players].sort(byId)[0]!, [...ours.players].sort(byId)[0]!) < 0;
}

export class SplitGames<S, I> {
  /**
   * Peers of the smaller half whose hello we answered in this game, with the frame it said.
   * Cleared with the game (a rejoin keeps its generation: kept, we never answered a half of
   * the next split of it), and a peer's entry goes with its connection: our hello sent as
   * the next one opens may be lost like the first, and only an answer then tells its half
   * of ours. Answered again when the frame it says changes (it dropped us since: fixed now).
   */
  readonly #answered = new Map<PeerId, number>();
  /** Our frame as we first met again each player we dropped from this game, over the connection we have to it now. */
  readonly #metAt = new Map<PeerId, number>();

  constructor(private readonly c: SessionCore<S, I>) {}

  /** Our game is over for us (back to the lobby, or moved to another start). */
  forgetGame(): void {
    this.#answered.clear();
    this.#metAt.clear();
  }

  /** Our connection to `peer` closed: the next one is another meeting. */
  peerLeft(peer: PeerId): void {
    this.#answered.delete(peer);
    this.#metAt.delete(peer);
  }

  /** The players of our game that are not leaving or dropped, as our hello lists them (none unless running). */
  players(): PeerId[] {
    if (this.c.status !== 'running' || !this.c.sim) return [];
    return this.c.sim.players.filter((p) => !this.c.leaving.has(p) && !this.c.dropped.has(p));
  }

  /**
   * The frame our hello to `peer` says: to a player we dropped from this game, our frame as
   * we first met it again (fixed from this hello on, if this is the first); to any other
   * peer, our current frame (0 unless running).
   */
  frameFor(peer: PeerId): number {
    if (this.c.status !== 'running' || !this.c.sim) return 0;
    if (!this.#droppedByUs(peer)) {
      this.#metAt.delete(peer); // a member again: a later drop of it is another split
      return this.c.sim.frame;
    }
    let f = this.#metAt.get(peer);
    if (f === undefined) this.#metAt.set(peer, (f = this.c.sim.frame));
    return f;
  }

  /**
   * We dropped `peer` while connected to it. If it runs a half of this game that dropped us
   * (our connection opened again before our drop), its hellos came before our drop, when
   * they were no evidence of a split, and it may have judged ours, saying our frame of then,
   * and answered: nothing else would be said and both halves ran on for good. Our hello
   * now (our frame fixed from it on) lets it judge again, and answer.
   */
  dropped(peer: PeerId): void {
    if (this.c.status === 'running' && this.c.room.peers.has(peer)) this.c.admission.sayHelloTo(peer);
  }

  /** A hello straight from `from` (not relayed). True when we gave way to its half and went back to the lobby. */
  onHello(from: PeerId, m: Hello): boolean {
    const theirs = m.players ?? [];
    const ours = this.players();
    if (!m.started || ours.length === 0 || !theirs.includes(from) || theirs.some((p) => ours.includes(p))) return false;
    // Only a player of this game that we dropped is evidence of a split: any room peer can say hello.
    if (!this.#droppedByUs(from)) return false;
    // Its players count only as peers of the room we are connected to: made-up ids would
    // let one former player send every member of our game (the host too) to the lobby,
    // leaving nobody running a game to admit them. Connections open one by one, so a half
    // may look smaller at first; the hello each new connection brings sees more of it.
    const counted = theirs.filter((p) => p === from || this.c.room.peers.has(p));
    const them: Half = { players: counted, frame: m.frame ?? 0 };
    const us: Half = { players: ours, frame: this.frameFor(from) };
    if (outranks(them, us, this.c.config.tickHz)) {
      const why = `${from} plays on in a game of ${counted.length} (${counted.join(', ')}) at frame ${them.frame}, split from ours of ${ours.length} (${ours.join(', ')}) at frame ${us.frame} by lost connections`;
      // Alone in our half, nobody else has packets of ours or for us on this game's channels
      // (the other half's players stopped sending to us when they dropped us): the join frame
      // need not wait for our half's frames. Were we ahead of them (a larger half that was
      // stopped), it waited that long, past the snapshot deadline.
      const alone = this.c.members().length === 0;
      this.c.admission.rejoin('split', why, { announce: true, detail: { by: from, players: counted, frames: { theirs: them.frame, ours: us.frame } }, raiseFloor: !alone });
      return true;
    }
    if (this.#answered.get(from) === them.frame) return false;
    this.#answered.set(from, them.frame);
    this.c.admission.sayHelloTo(from);
    return false;
  }

  /** Whether we dropped `peer`'s admission in this game, and it is no member again since. */
  #droppedByUs(peer: PeerId): boolean {
    if (this.c.dropped.has(peer)) return true;
    return !this.c.isMember(peer) && [...this.c.decidedDrops.values()].some((d) => d.leaver === peer);
  }
}
