/**
 * Two starts at about the same time (friends pressing Start together): each starter began
 * its own game before the other's start reached it, and each member began whichever start
 * came first. A running member ignored every later start, so each game waited for players
 * that were playing the other one, dropped them as silent after 10 s, and each side played
 * alone. Every member of both games hears both starts (each lists the other's starter), so
 * one rule picks the same winner everywhere: the start whose starter has the lowest id.
 * PROTOCOL.md, "Lockstep wire format" (concurrent starts).
 */
import type { PeerId } from '../mesh/types.js';
import { byId, type SessionCore } from './session-core.js';
import type { Control, Kind } from './wire.js';

export type StartMessage = Extract<Control, { kind: typeof Kind.start }>;

/**
 * Whether a running member leaves its game for the start `m` from `from`. Only when that
 * starter is a player our own start admitted and nothing of our game ever came from it: it
 * began its own game instead, so nobody could step a frame of ours past the first `delay`
 * (neutral by rule; each later one needs its input), and no input of our game mattered.
 * A start from anyone else finds a game that may be under way, which is never abandoned.
 */
export function startSupersedes<S, I>(c: SessionCore<S, I>, from: PeerId, m: StartMessage): boolean {
  const ours = c.starter;
  const mySince = c.since.get(c.selfId);
  const concurrent =
    ours !== undefined && c.sim !== undefined && mySince !== undefined &&
    c.streams.has(from) && c.since.get(from) === mySince && !c.leaving.has(from) && !c.dropped.has(from) &&
    c.silent.unheard(from) && c.sim.frame <= mySince + c.config.delay &&
    (m.players.includes(from) || m.spectators.includes(from));
  if (!concurrent) {
    c.log(`ignoring a start from ${from}: we play a game it does not hold up`);
    return false;
  }
  if (byId(from, ours!) >= 0) {
    c.log(`keeping our game: ${ours}'s start wins over ${from}'s (lower id)`);
    return false;
  }
  // Both games' control messages and input channels are told apart by generation alone:
  // with the same one, packets our game's members still send could be taken for the other's.
  // A generation digests the starter's id with the seed (generationOf, checked on every
  // start), so two starters share one only by a 32-bit collision, even with the same seed.
  if (m.gen === c.gen) {
    c.log(`cannot move to ${from}'s game: it has our game's generation ${m.gen}`);
    return false;
  }
  return true;
}
