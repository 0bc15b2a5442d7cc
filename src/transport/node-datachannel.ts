/**
 * node-datachannel (libdatachannel) as the WebRTC of {@link createSimplePeerTransports}
 * in Node.
 *
 * Why offer it next to `@roamhq/wrtc`: every `RTCDataChannel.send()` in wrtc is a
 * blocking call into libwebrtc's own threads (two thread hops, ~0.1 ms idle and 0.2-0.4 ms
 * on a loaded 2-core machine), so a peer that sends one edit to 7 others spends most of the
 * edit's latency inside `send()`. libdatachannel queues the message on the calling thread
 * (~3 µs per send, measured here), so the same fan-out costs tens of microseconds. It also
 * ships its native binary in a per-platform npm package, so no install script is needed.
 *
 * Its polyfill is close to the browser API; the one difference simple-peer trips over is
 * that `createOffer()`/`createAnswer()` return an object whose `sdp` is read-only, which
 * simple-peer rewrites. This adapter hands simple-peer plain `{ type, sdp }` objects.
 */
import { MeshpartyError } from '../util/errors.js';
import type { WebRtcImplementation } from './simple-peer.js';

/** The parts of `node-datachannel/polyfill` used here. */
export interface NodeDatachannelPolyfill {
  RTCPeerConnection: unknown;
  RTCSessionDescription: unknown;
  RTCIceCandidate: unknown;
}

type Description = { type: string; sdp: string };
type PeerConnectionClass = new (config?: unknown) => {
  createOffer(options?: unknown): Promise<Description>;
  createAnswer(options?: unknown): Promise<Description>;
};

/**
 * Wrap `node-datachannel/polyfill` so simple-peer (and so meshparty) can use it.
 *
 * @example
 * ```ts
 * import * as polyfill from 'node-datachannel/polyfill';
 * const wrtc = adaptNodeDatachannel(polyfill);
 * const room = joinRoom({ relay: 'ws://127.0.0.1:8787', room: 'demo', WebSocket, wrtc });
 * ```
 */
export function adaptNodeDatachannel(polyfill: NodeDatachannelPolyfill): WebRtcImplementation {
  const Base = polyfill?.RTCPeerConnection as PeerConnectionClass | undefined;
  if (typeof Base !== 'function') {
    throw new MeshpartyError('bad-argument', 'adaptNodeDatachannel needs the module `node-datachannel/polyfill` (it has no RTCPeerConnection)');
  }
  const plain = (d: Description): Description => ({ type: d.type, sdp: d.sdp });
  class PeerConnection extends Base {
    override async createOffer(options?: unknown): Promise<Description> {
      return plain(await super.createOffer(options));
    }
    override async createAnswer(options?: unknown): Promise<Description> {
      return plain(await super.createAnswer(options));
    }
  }
  return { RTCPeerConnection: PeerConnection, RTCSessionDescription: polyfill.RTCSessionDescription, RTCIceCandidate: polyfill.RTCIceCandidate };
}
