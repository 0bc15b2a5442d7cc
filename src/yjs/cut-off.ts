/**
 * Disconnecting a peer that keeps sending bad messages, through the room.
 */
import type { PeerId, Room } from '../mesh/types.js';

/** Ask the room to close its connection to `peer`, when the room can (`Room.disconnect` is optional). */
export function cutOffPeer(room: Room, peer: PeerId, reason: string): void {
  try {
    room.disconnect?.(peer, reason);
  } catch {
    // the room refused; the provider already ignores this peer
  }
}
