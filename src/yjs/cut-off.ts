/**
 * Disconnecting a peer that keeps sending bad messages, through the room.
 */
import type { PeerId, Room } from '../mesh/types.js';

/** Ask the room to close its connection to `peer`, when the room can. */
export function cutOffPeer(room: Room, peer: PeerId, reason: string): void {
  const disconnect = (room as Room & { disconnect?: (id: PeerId, reason: string) => unknown }).disconnect;
  if (typeof disconnect !== 'function') return;
  try {
    void Promise.resolve(disconnect.call(room, peer, reason)).catch(() => {});
  } catch {
    // the room refused; the provider already ignores this peer
  }
}
