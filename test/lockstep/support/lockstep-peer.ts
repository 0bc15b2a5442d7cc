/**
 * One lockstep player in its own process, over real WebRTC (@roamhq/wrtc) and the
 * relay, playing the light-cycles demo game with scripted inputs on the real clock.
 *
 * Env: RELAY (ws://...), ROOM, ID (this peer's id), PLAYERS (comma-separated ids; the
 * first one starts the game), FRAMES (frames to reach before reporting).
 * IPC out: { event: 'started', at } | { event: 'done', hashes: [frame, hash][], stats }
 *        | { event: 'desync', frame } | { event: 'error', message }
 * IPC in:  { cmd: 'exit' }
 */
import { WebSocket } from 'ws';
import wrtc from '@roamhq/wrtc';
import { createLockstepSession, joinRoom } from '../../../src/index.js';
import { lightCycles } from '../../../demos/game/light-cycles.js';
import { scriptedButtons } from '../games.js';

const send = (msg: object): void => {
  if (process.connected) process.send?.(msg);
};

async function main(): Promise<void> {
  const { RELAY, ROOM, ID, PLAYERS, FRAMES } = process.env;
  if (!RELAY || !ROOM || !ID || !PLAYERS || !FRAMES) throw new Error('RELAY, ROOM, ID, PLAYERS and FRAMES are required');
  const players = PLAYERS.split(',');
  const index = players.indexOf(ID);
  const frames = Number(FRAMES);
  const room = await joinRoom({ relay: RELAY, room: ROOM, peerId: ID, wrtc, WebSocket } as never);
  let frameNow = 0;
  const session = createLockstepSession({ room, game: lightCycles, input: () => scriptedButtons(frameNow, index) });
  session.on('frame', ({ frame }) => (frameNow = frame));
  let startedAt = 0;
  session.on('started', () => {
    startedAt = performance.now();
    send({ event: 'started' });
  });
  session.on('desync', (d) => send({ event: 'desync', frame: d.frame }));
  let reported = false;
  session.on('frame', ({ frame }) => {
    if (reported || frame < frames) return;
    reported = true;
    send({ event: 'done', hashes: session.recording().hashes, stats: session.stats(), elapsedMs: performance.now() - startedAt });
  });
  process.on('message', (m: { cmd?: string }) => {
    if (m?.cmd !== 'exit') return;
    session.leave();
    void room.leave().finally(() => process.exit(0));
  });
  if (index === 0) {
    const deadline = Date.now() + 60_000;
    while (players.some((p) => p !== ID && !room.peers.has(p)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    session.start({ seed: 4242, players });
  }
}

main().catch((err: unknown) => {
  send({ event: 'error', message: String((err as Error)?.stack ?? err) });
  process.exit(1);
});
