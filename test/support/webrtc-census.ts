/**
 * Keeps a list of every peer connection and data channel a WebRTC implementation makes,
 * so a test process that fails to exit can say which of them never reached `closed`.
 */
import type { WebRtcImplementation } from '../../src/transport/simple-peer.js';

type Channel = { label: string; readyState: string; addEventListener(type: string, l: () => void): void };
type PeerConnection = {
  connectionState?: string;
  signalingState?: string;
  createDataChannel(label: string, options?: unknown): Channel;
  addEventListener(type: string, l: (e: { channel?: Channel }) => void): void;
};

/** A census of what `wrtc` created; `report()` counts them by state. */
export function webRtcCensus(wrtc: WebRtcImplementation): { wrtc: WebRtcImplementation; report(): string } {
  const pcs: PeerConnection[] = [];
  const channels: { channel: Channel; remote: boolean; closeEvents: number }[] = [];
  const track = (channel: Channel, remote: boolean) => {
    const entry = { channel, remote, closeEvents: 0 };
    channels.push(entry);
    channel.addEventListener('close', () => entry.closeEvents++);
    return channel;
  };
  const Base = wrtc.RTCPeerConnection as unknown as new (config?: unknown) => PeerConnection;
  class Counted extends Base {
    constructor(config?: unknown) {
      super(config);
      pcs.push(this);
      this.addEventListener('datachannel', (e) => e.channel && track(e.channel, true));
    }
    override createDataChannel(label: string, options?: unknown): Channel {
      return track(super.createDataChannel(label, options), false);
    }
  }
  const count = (values: string[]) => {
    const m = new Map<string, number>();
    for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
    return [...m].map(([k, n]) => `${k}=${n}`).join(' ');
  };
  return {
    wrtc: { ...wrtc, RTCPeerConnection: Counted as unknown as WebRtcImplementation['RTCPeerConnection'] },
    report: () =>
      `peer connections: ${count(pcs.map((p) => `${p.connectionState}/${p.signalingState}`))}; ` +
      `channels: ${count(channels.map((c) => `${c.remote ? 'remote' : 'local'}:${c.channel.readyState}:close-events-${c.closeEvents}`))}`,
  };
}
