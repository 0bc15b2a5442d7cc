/**
 * One mesh peer in its own process, for integration tests: real WebRTC (the engine named
 * by `WEBRTC`: wrtc (default) or node-datachannel), real relay client (ws). Controlled
 * over the Node IPC channel (the parent forks it with `--import tsx`); every room event
 * goes back to the parent with a wall-clock timestamp so the parent can measure across
 * processes. Exits when the parent goes away.
 *
 * Parent -> child: {cmd:'join', relay, room, password?} | {cmd:'broadcast', text} |
 *                  {cmd:'state'} | {cmd:'leave'} | {cmd:'exit'}
 * Child -> parent: {ev:'ready', engine} | {ev:'joined', selfId} | {ev:'join-failed', code} |
 *                  {ev:'peer-joined'|'peer-left', id, t} | {ev:'status', status, t} |
 *                  {ev:'error', code} | {ev:'message', from, text} | {ev:'state', ...} | {ev:'left'}
 *
 * `exit` leaves the room and closes the IPC channel without calling `process.exit`: the
 * event loop must then empty on its own (WebRTC native handles included). Node says so
 * with `beforeExit`, and only then does the process call `process.exit`. If something
 * still holds the loop after EXIT_WATCHDOG_MS it exits with code 3.
 *
 * Why not let Node finish the exit by itself: @roamhq/wrtc 0.10.0 crashes with SIGSEGV
 * in Node's environment cleanup after a natural exit, when peer connections were used
 * (measured here: 5 in 100 plain runs, 10 in 60 beside a busy CPU; 0 in 400 that call
 * `process.exit`). README, "Node", tells embedders the same.
 */
import WebSocket from 'ws';
import { joinRoom } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import { MeshpartyError } from '../../src/util/errors.js';
import { nodeWebRtc, parseEngine } from '../support/node-webrtc.js';
import { webRtcCensus } from '../support/webrtc-census.js';
import { EXIT_WATCHDOG_MS, HUNG_EXIT_CODE } from './support/peers.js';

type Command =
  | { cmd: 'join'; relay: string; room: string; password?: string }
  | { cmd: 'broadcast'; text: string }
  | { cmd: 'state' }
  | { cmd: 'leave' }
  | { cmd: 'exit' };

const engine = parseEngine(process.env.WEBRTC);
const census = webRtcCensus(await nodeWebRtc(engine));
const wrtc = census.wrtc;
const send = (m: Record<string, unknown>) => {
  if (process.connected) process.send?.(m);
};
const quiet = { debug: () => {}, warn: () => {} };
let room: Room | undefined;
let exiting = false;

process.on('disconnect', () => {
  if (!exiting) process.exit(0);
});

process.on('message', (raw) => {
  const m = raw as Command;
  void handle(m).catch((err) => send({ ev: 'crash', error: String(err) }));
});

async function handle(m: Command): Promise<void> {
  switch (m.cmd) {
    case 'join': {
      try {
        room = await joinRoom({ relay: m.relay, room: m.room, password: m.password, wrtc, WebSocket, logger: quiet, backoff: { initialMs: 100, maxMs: 1000 } });
      } catch (err) {
        send({ ev: 'join-failed', code: err instanceof MeshpartyError ? err.code : String(err) });
        return;
      }
      const r = room;
      r.on('peer-joined', ({ id }) => send({ ev: 'peer-joined', id, t: Date.now() }));
      r.on('peer-left', ({ id, reason }) => send({ ev: 'peer-left', id, reason, t: Date.now() }));
      r.on('status', (status) => send({ ev: 'status', status, t: Date.now() }));
      r.on('error', (err) => send({ ev: 'error', code: err.code }));
      r.channel('chat').on('message', ({ from, data }) => send({ ev: 'message', from, text: new TextDecoder().decode(data) }));
      send({ ev: 'joined', selfId: r.selfId });
      return;
    }
    case 'broadcast':
      await room?.channel('chat').broadcast(new TextEncoder().encode(m.text));
      return;
    case 'state':
      send({ ev: 'state', selfId: room?.selfId, status: room?.status, peers: room ? [...room.peers.keys()] : [] });
      return;
    case 'leave':
      await room?.leave();
      send({ ev: 'left' });
      return;
    case 'exit':
      exiting = true;
      setTimeout(() => {
        // Say what still holds the event loop, for whoever reads the failed test's output.
        console.error(`peer-process ${room?.selfId}: still alive ${EXIT_WATCHDOG_MS} ms after exit; active: ${process.getActiveResourcesInfo().join(', ')}; ${census.report()}`);
        process.exit(HUNG_EXIT_CODE);
      }, EXIT_WATCHDOG_MS).unref();
      // Fires only once nothing (no timer, socket or native handle) keeps the loop alive.
      process.once('beforeExit', () => process.exit());
      try {
        await room?.leave();
      } catch (err) {
        console.error('peer-process: leave failed', err);
        process.exitCode = 1;
      }
      process.disconnect();
      return;
  }
}

send({ ev: 'ready', engine });
