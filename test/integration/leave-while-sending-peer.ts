/**
 * Child process of `leave-while-sending.test.ts`: a relay and two mesh peers on
 * @roamhq/wrtc in this one process. Each round, A floods B with small messages and B
 * floods A; then B leaves while A is still sending, A must see B leave, and a new B joins.
 * The native crash this guards against (a send on a channel that the WebRTC stack is
 * closing on its own thread) takes the whole process down, which is why it runs apart
 * from the test runner.
 *
 * Env: ROUNDS (default 30), FAREWELL_MS (the mesh's farewellTimeoutMs; unset = default).
 * Stdout, last line: {"rounds", "leftReasons": {reason: count} as A saw them, "sent",
 * "leaveMs": how long each `b.leave()` took (A closing first ends it early; the farewell
 * timeout ends it at farewellTimeoutMs)}.
 */
import WebSocket from 'ws';
import { createSignalingServer, silentLogger } from '../../signaling/index.js';
import { joinRoom } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import { waitFor } from '../support/net.js';
import { nodeWebRtc } from '../support/node-webrtc.js';

const rounds = Number(process.env.ROUNDS ?? 30);
const farewellTimeoutMs = process.env.FAREWELL_MS === undefined ? undefined : Number(process.env.FAREWELL_MS);
const wrtc = await nodeWebRtc('wrtc');
const relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
const quiet = { debug: () => {}, warn: () => {} };
const join = () => joinRoom({ relay: relay.address.url, room: 'flood', wrtc, WebSocket, logger: quiet, farewellTimeoutMs });

/** Send to `to` a few messages per macrotask until `stop()`; returns stop and the count sent. */
function flood(from: Room, to: string): { stop(): number } {
  const data = new Uint8Array(64);
  let sent = 0;
  let on = true;
  const tick = () => {
    if (!on) return;
    // Unreliable: straight to the data channel (no queue waiting for drain), so this
    // process spends much of its time inside the native send, as a game loop's inputs do.
    for (let i = 0; i < 32 && from.peers.has(to); i++, sent++) void from.channel('flood', { reliability: 'unreliable' }).send(to, data).catch(() => {});
    setImmediate(tick);
  };
  tick();
  return {
    stop: () => {
      on = false;
      return sent;
    },
  };
}

const a = await join();
const leftReasons: Record<string, number> = {};
a.on('peer-left', ({ reason }) => (leftReasons[reason] = (leftReasons[reason] ?? 0) + 1));
let sent = 0;
const leaveMs: number[] = [];
for (let round = 0; round < rounds; round++) {
  const b = await join();
  await waitFor(() => a.peers.has(b.selfId) && b.peers.has(a.selfId), `round ${round}: A and B connected`, 20_000, 5);
  const ab = flood(a, b.selfId);
  const ba = flood(b, a.selfId);
  await new Promise((r) => setTimeout(r, 30));
  sent += ba.stop();
  const leaving = performance.now();
  await b.leave();
  leaveMs.push(Math.round(performance.now() - leaving));
  await waitFor(() => !a.peers.has(b.selfId), `round ${round}: A sees B leave`, 20_000, 5);
  sent += ab.stop();
}
await a.leave();
await relay.close();
console.log(JSON.stringify({ rounds, leftReasons, sent, leaveMs }));
// @roamhq/wrtc can crash in Node's teardown after a natural exit (README, "WebRTC in Node").
process.exit(0);
