/**
 * Drives one `peer-main.ts` child process (a Yjs peer over real WebRTC, meshparty's or
 * y-webrtc's): commands over IPC and waits on what it reports (see `test/support/ipc-child.ts`).
 */
import { resolve } from 'node:path';
import { forkIpcChild, type ChildEvent, type IpcChild } from '../../support/ipc-child.js';

const script = resolve(import.meta.dirname, 'peer-main.ts');

/** Something the peer process reported. */
export type PeerEvent = ChildEvent;

export type PeerProcess = IpcChild<PeerEvent>;

/** Start a peer process: `mode` meshparty or y-webrtc, against `relay`, in `room`, on `WEBRTC` (default @roamhq/wrtc). */
export function startPeerProcess(
  name: string,
  env: { MODE: 'meshparty' | 'y-webrtc'; RELAY: string; ROOM: string; DOC?: string; WEBRTC?: 'wrtc' | 'node-datachannel' },
): PeerProcess {
  return forkIpcChild<PeerEvent>(name, script, env, 60_000);
}
