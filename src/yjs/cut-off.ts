/**
 * Reporting a peer's bad messages to the room, and disconnecting one that keeps sending them.
 */
import type { PeerId, Room } from '../mesh/types.js';

/**
 * Ask the room to close its connection to `peer`, when the room can (`Room.disconnect` is
 * optional), and to refuse it for `banMs` at least (the provider's block): let back
 * sooner, it would only be cut off again, and the mesh would count each cut as another
 * offence (its ban doubling each time), and each cut, a departure, restarted the block.
 */
export function cutOffPeer(room: Room, peer: PeerId, reason: string, banMs: number): void {
  try {
    room.disconnect?.(peer, reason, { banMs });
  } catch {
    // the room refused; the provider already ignores this peer
  }
}

/** Count one strike against `peer` with the room (Room.strike, optional), which counts bad input per peer across layers. */
export function strikePeer(room: Room, peer: PeerId, reason: string): void {
  try {
    room.strike?.(peer, reason);
  } catch {
    // the room refused; the provider keeps its own count
  }
}
