/**
 * Spawns and drives one `y-webrtc-peer.ts` child process (an unchanged y-webrtc
 * provider) over IPC; the process plumbing is `test/support/ipc-child.ts`.
 */
import { resolve } from 'node:path';
import { forkIpcChild, type IpcChild } from '../../support/ipc-child.js';

const script = resolve(import.meta.dirname, 'y-webrtc-peer.ts');

/** A message the peer process sent over IPC. */
export type PeerEvent =
  | { event: 'ready' }
  | { event: 'text'; value: string }
  | { event: 'peers'; webrtcPeers: string[] }
  | { event: 'error'; message: string };

/** One y-webrtc provider in its own process (its y-webrtc log lines are its stdout). */
export interface YWebrtcPeerProcess extends Pick<IpcChild<PeerEvent>, 'name' | 'events' | 'waitFor' | 'stop' | 'diagnostics'> {
  /** The last `text` value seen ('' before any). */
  text(): string;
  insert(index: number, text: string): void;
}

/** Start a y-webrtc peer for `room` against `signalingUrl` (with y-webrtc's `password` when given). */
export function startYWebrtcPeer(name: string, signalingUrl: string, room: string, password?: string): YWebrtcPeerProcess {
  // LOG=y-webrtc turns on y-webrtc's own log lines (lib0/logging); kept for failure messages.
  const child = forkIpcChild<PeerEvent>(name, script, { SIGNALING_URL: signalingUrl, ROOM: room, NAME: name, PASSWORD: password ?? '', LOG: 'y-webrtc' });
  return {
    name,
    events: child.events,
    waitFor: child.waitFor,
    stop: child.stop,
    diagnostics: child.diagnostics,
    text: () => {
      for (let i = child.events.length - 1; i >= 0; i--) {
        const e = child.events[i]!;
        if (e.event === 'text') return e.value;
      }
      return '';
    },
    insert: (index, text) => child.send({ cmd: 'insert', index, text }),
  };
}
