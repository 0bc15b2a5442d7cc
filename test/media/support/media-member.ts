/**
 * A call member for the media tests: a room on the in-memory mesh with a media share,
 * recording the stream events and errors it gets; cleaned up (share destroyed, room left)
 * by the test file's `cleanups`.
 */
import type { MemoryNetwork } from '../../../src/mesh/memory-network.js';
import { silentLogger } from '../../../src/mesh/logger.js';
import type { Room } from '../../../src/mesh/types.js';
import { createMediaShare, type MediaShare, type RemoteMediaStream } from '../../../src/media/index.js';
import type { MeshpartyError } from '../../../src/util/errors.js';
import { wrtc } from './wrtc-media.js';

export interface MediaMember {
  room: Room;
  media: MediaShare;
  added: RemoteMediaStream[];
  updated: RemoteMediaStream[];
  removed: RemoteMediaStream[];
  errors: MeshpartyError[];
}

/** `id` joins room 'call' on `net` with a media share on `engine` (@roamhq/wrtc unless given). */
export function mediaMember(
  net: MemoryNetwork,
  id: string,
  cleanups: (() => void | Promise<void>)[],
  engine: typeof wrtc = wrtc,
): MediaMember {
  const room = net.join('call', { peerId: id });
  const media = createMediaShare(room, { wrtc: engine, logger: silentLogger() });
  const m: MediaMember = { room, media, added: [], updated: [], removed: [], errors: [] };
  media.on('stream-added', (s) => m.added.push(s));
  media.on('stream-updated', (s) => m.updated.push(s));
  media.on('stream-removed', (s) => m.removed.push(s));
  media.on('error', (e) => m.errors.push(e));
  cleanups.push(async () => {
    media.destroy();
    await room.leave();
  });
  return m;
}
