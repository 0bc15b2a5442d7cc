/**
 * Child of test/transport/bad-config.test.ts: creates a transport on the real engine named
 * by WEBRTC with a TURN server that has no credentials, catches the error, and says
 * whether the process is still alive a moment later.
 */
import { createSimplePeerTransports } from '../../../src/transport/simple-peer.js';
import { loadNodeWebRtc } from '../../../src/transport/node-webrtc.js';
import { parseEngine } from '../../support/node-webrtc.js';

const { wrtc } = await loadNodeWebRtc(parseEngine(process.env.WEBRTC));
const transports = createSimplePeerTransports({ wrtc, iceServers: [{ urls: 'turn:turn.example.org:3478' }], logger: { warn: () => {} } });
try {
  transports.create({ localId: 'a', remoteId: 'b', initiator: true });
  console.log('CREATED');
} catch (err) {
  console.log('CAUGHT', (err as { code?: string }).code);
}
setTimeout(() => {
  console.log('STILL ALIVE');
  process.exit(0); // the engine's own threads may keep the event loop up; only a crash matters here
}, 100);
