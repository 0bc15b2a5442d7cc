/**
 * @roamhq/wrtc reads an RTCPeerConnection's `localDescription` and `remoteDescription`
 * from the JS thread while libwebrtc's own threads may be changing them (candidates
 * gathered into the local one, remote candidates added to the other): serializing the
 * description then crashes the process now and then. Seen here: SIGSEGV in
 * `webrtc::SdpSerialize` under `RTCPeerConnection::GetLocalDescription`, 1 in ~15 runs of
 * an 8-peer room in one process, read by simple-peer right after `setLocalDescription`.
 *
 * So the connections it makes are wrapped: those two properties are the descriptions
 * last set from JS, kept on the JS side, and the native ones are not read while they can
 * change. The local one is read natively once ICE gathering is complete (then it holds
 * every candidate, and nothing changes it any more); before that, simple-peer and the
 * candidate batcher need no more than the JS copy: candidates travel on their own
 * (trickle). The remote one is only ever checked for its type.
 */
import type { WebRtcImplementation } from './simple-peer.js';

type Description = { type: string; sdp: string };
type Setter = (d?: Description) => Promise<void>;

/** Whether `impl` is @roamhq/wrtc (or node-webrtc, which it forked): the engine this is for. */
export function isNodeWebrtc(impl: WebRtcImplementation | undefined): boolean {
  if (!impl || typeof impl.RTCPeerConnection !== 'function') return false;
  // The module has `nonstandard`; its classes picked out on their own (an object of just
  // the three that WebRtcImplementation names) do not, and went unwrapped. Its
  // RTCPeerConnection is a plain JS function that builds the native one by this name.
  return 'nonstandard' in impl || Function.prototype.toString.call(impl.RTCPeerConnection).includes('_webrtc.RTCPeerConnection(');
}

/**
 * `impl` whose RTCPeerConnections keep `localDescription` and `remoteDescription` on the
 * JS side (see the module comment); everything else passes through unchanged.
 *
 * @example
 * ```ts
 * import wrtc from '@roamhq/wrtc';
 * const safe = withJsSideDescriptions(wrtc);
 * const pc = new (safe.RTCPeerConnection as typeof RTCPeerConnection)();
 * ```
 */
export function withJsSideDescriptions(impl: WebRtcImplementation): WebRtcImplementation {
  const Base = impl.RTCPeerConnection as new (...args: unknown[]) => object;
  class JsSideDescriptions {
    constructor(...args: unknown[]) {
      const pc = new Base(...args) as Record<string, unknown>;
      const kept: { localDescription: Description | null; remoteDescription: Description | null } = { localDescription: null, remoteDescription: null };
      /** `set` (setLocalDescription or its remote twin) that remembers what it set once the engine took it. */
      const remembering = (set: Setter, into: keyof typeof kept): Setter =>
        async function (this: unknown, d?: Description) {
          await set.call(this, d);
          if (d && typeof d.type === 'string' && typeof d.sdp === 'string') kept[into] = { type: d.type, sdp: d.sdp };
        };
      const setLocal = remembering(pc.setLocalDescription as Setter, 'localDescription');
      const setRemote = remembering(pc.setRemoteDescription as Setter, 'remoteDescription');
      // Returned from the constructor: `new` gives the caller this proxy, whose methods run
      // with it as `this` (wrtc's reach the native connection through `this._pc`).
      return new Proxy(pc, {
        get(target, key) {
          // Once gathering is over nothing changes the local description any more: read
          // the native one then, with its candidates (the batcher sends them inside it).
          if (key === 'localDescription') return target.iceGatheringState === 'complete' ? Reflect.get(target, key) : kept.localDescription;
          if (key === 'remoteDescription') return kept.remoteDescription;
          if (key === 'setLocalDescription') return setLocal;
          if (key === 'setRemoteDescription') return setRemote;
          return Reflect.get(target, key);
        },
      });
    }
  }
  return { ...impl, RTCPeerConnection: JsSideDescriptions };
}
