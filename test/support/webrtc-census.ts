/**
 * Keeps a list of every peer connection and data channel a WebRTC implementation makes:
 * tests read what was created (and with which options), and a test process that fails
 * to exit can say which of them never reached `closed`.
 */
import type { WebRtcImplementation } from '../../src/transport/simple-peer.js';

type Channel = { label: string; readyState: string; addEventListener(type: string, l: () => void): void };
type PeerConnection = {
  connectionState?: string;
  signalingState?: string;
  createDataChannel(label: string, options?: RTCDataChannelInit): Channel;
  addEventListener(type: string, l: (e: { channel?: Channel }) => void): void;
};

/** One channel seen: made here (`createDataChannel`, with its options) or announced by the remote. */
export interface CensusChannel {
  channel: Channel;
  remote: boolean;
  init: RTCDataChannelInit | undefined;
  closeEvents: number;
}

/** What `wrtc` created: `connections`, `channels`, and `report()` counting them by state. */
export interface WebRtcCensus {
  wrtc: WebRtcImplementation;
  connections: PeerConnection[];
  channels: CensusChannel[];
  report(): string;
}

/** Wrap `wrtc` so that everything it creates is recorded. */
export function webRtcCensus(wrtc: WebRtcImplementation): WebRtcCensus {
  const connections: PeerConnection[] = [];
  const channels: CensusChannel[] = [];
  const track = (channel: Channel, remote: boolean, init?: RTCDataChannelInit) => {
    const entry = { channel, remote, init, closeEvents: 0 };
    channels.push(entry);
    channel.addEventListener('close', () => entry.closeEvents++);
    return channel;
  };
  const Base = wrtc.RTCPeerConnection as unknown as new (config?: unknown) => PeerConnection;
  class Counted extends Base {
    constructor(config?: unknown) {
      super(config);
      connections.push(this);
      this.addEventListener('datachannel', (e) => e.channel && track(e.channel, true));
    }
    override createDataChannel(label: string, init?: RTCDataChannelInit): Channel {
      return track(super.createDataChannel(label, init), false, init);
    }
  }
  const count = (values: string[]) => {
    const m = new Map<string, number>();
    for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
    return [...m].map(([k, n]) => `${k}=${n}`).join(' ');
  };
  return {
    wrtc: { ...wrtc, RTCPeerConnection: Counted as unknown as WebRtcImplementation['RTCPeerConnection'] },
    connections,
    channels,
    report: () =>
      `peer connections: ${count(connections.map((p) => `${p.connectionState}/${p.signalingState}`))}; ` +
      `channels: ${count(channels.map((c) => `${c.remote ? 'remote' : 'local'}:${c.channel.readyState}:close-events-${c.closeEvents}`))}`,
  };
}
