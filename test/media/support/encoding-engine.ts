/**
 * @roamhq/wrtc whose video senders record each setParameters and keep what it set.
 * wrtc 0.10 refuses every setParameters once a connection is negotiated (its bindings
 * drop the SSRCs and RTCP settings the engine checks, so even unchanged parameters fail:
 * InvalidStateError), so in Node what a sender asks its engine for is what can be seen;
 * the frames themselves shrink in Chromium (test/e2e/video-view-size.test.ts).
 */
import { watchedWrtc } from './raw-peer.js';
import { wrtc } from './wrtc-media.js';
import type { MediaShare } from '../../../src/media/index.js';

export interface EncodingEngine {
  engine: typeof wrtc;
  /** Every setParameters call: on which connection, the first encoding it set. */
  calls: { pc: RTCPeerConnection; encoding: RTCRtpEncodingParameters }[];
  /** Descriptions set on any connection (renegotiations), local and remote. */
  descriptions: () => number;
  /** The video encoding `media`'s connection to `peer` sends with now. */
  encodingTo(media: MediaShare, peer: string): Promise<RTCRtpEncodingParameters | undefined>;
  /** The setParameters calls made on `media`'s connection to `peer`. */
  callsTo(media: MediaShare, peer: string): Promise<RTCRtpEncodingParameters[]>;
}

export function encodingEngine(): EncodingEngine {
  const calls: EncodingEngine['calls'] = [];
  let descriptions = 0;
  let asked: RTCPeerConnection | undefined;
  const videoSenders = new Map<RTCPeerConnection, RTCRtpSender>();
  const engine = watchedWrtc((pc) => {
    const addTransceiver = pc.addTransceiver.bind(pc);
    pc.addTransceiver = (track, init) => {
      const transceiver = addTransceiver(track, init);
      if (typeof track === 'string' || track.kind !== 'video') return transceiver;
      const real = transceiver.sender;
      let kept: RTCRtpEncodingParameters[] | undefined;
      const own = {
        getParameters: () => {
          const parameters = real.getParameters();
          return kept ? { ...parameters, encodings: kept.map((e) => ({ ...e })) } : parameters;
        },
        setParameters: async (parameters: RTCRtpSendParameters) => {
          calls.push({ pc, encoding: { ...parameters.encodings[0] } });
          kept = parameters.encodings.map((e) => ({ ...e }));
        },
      };
      // wrtc's senders and transceivers are read-only: stand in for them with proxies.
      const bound = (target: object, key: string | symbol) => {
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      };
      const sender = new Proxy(real, { get: (target, key) => (key in own ? own[key as keyof typeof own] : bound(target, key)) });
      const proxied = new Proxy(transceiver, { get: (target, key) => (key === 'sender' ? sender : bound(target, key)) });
      videoSenders.set(pc, sender);
      return proxied;
    };
    for (const name of ['setLocalDescription', 'setRemoteDescription'] as const) {
      const set = (pc[name] as (...a: unknown[]) => Promise<void>).bind(pc);
      (pc as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
        descriptions++;
        return set(...a);
      };
    }
    // media.stats(peer) runs getStats on that peer's connection: how a test finds it.
    const getStats = pc.getStats.bind(pc);
    pc.getStats = ((...a: []) => {
      asked = pc;
      return getStats(...a);
    }) as typeof pc.getStats;
  });
  const connectionTo = async (media: MediaShare, peer: string): Promise<RTCPeerConnection | undefined> => {
    asked = undefined;
    await media.stats(peer);
    return asked as RTCPeerConnection | undefined;
  };
  return {
    engine,
    calls,
    descriptions: () => descriptions,
    async encodingTo(media, peer) {
      const pc = await connectionTo(media, peer);
      return pc && videoSenders.get(pc)?.getParameters().encodings[0];
    },
    async callsTo(media, peer) {
      const pc = await connectionTo(media, peer);
      return calls.filter((c) => c.pc === pc).map((c) => c.encoding);
    },
  };
}
