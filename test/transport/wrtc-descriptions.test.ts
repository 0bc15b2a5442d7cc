/**
 * wrtc's connections are wrapped so their descriptions are read on the JS side, never
 * from the native connection (whose getters race libwebrtc's threads and crashed the
 * process now and then; see src/transport/wrtc-descriptions.ts).
 */
import { describe, expect, it } from 'vitest';
import { isNodeWebrtc, withJsSideDescriptions } from '../../src/transport/wrtc-descriptions.js';
import { adaptNodeDatachannel } from '../../src/transport/node-datachannel.js';
import { nodeWebRtc } from '../support/node-webrtc.js';

/** A stand-in connection whose native description getters must never be read. */
class FakeConnection {
  nativeReads = 0;
  iceGatheringState = 'gathering';
  onicecandidate: unknown = null;
  readonly config: unknown;
  constructor(config: unknown) {
    this.config = config;
  }
  get localDescription(): never {
    this.nativeReads++;
    throw new Error('native localDescription read');
  }
  get remoteDescription(): never {
    this.nativeReads++;
    throw new Error('native remoteDescription read');
  }
  async setLocalDescription(d: { type: string; sdp: string }): Promise<void> {
    if (d.sdp === 'refused') throw new Error('bad sdp');
  }
  async setRemoteDescription(_d: { type: string; sdp: string }): Promise<void> {}
  whoAmI(this: { config: unknown }): unknown {
    return this.config;
  }
}

const fakeImpl = { RTCPeerConnection: FakeConnection, RTCSessionDescription: class {}, RTCIceCandidate: class {} };

describe('JS-side descriptions for wrtc', () => {
  it('keep what was set from JS, and read no native description while it can change', async () => {
    const Wrapped = withJsSideDescriptions(fakeImpl).RTCPeerConnection as new (c: unknown) => FakeConnection & { localDescription: unknown; remoteDescription: unknown };
    const pc = new Wrapped({ iceServers: [] });
    expect(pc.localDescription).toBeNull();
    expect(pc.remoteDescription).toBeNull();
    await pc.setLocalDescription({ type: 'offer', sdp: 'v=0 local' });
    await pc.setRemoteDescription({ type: 'answer', sdp: 'v=0 remote' });
    expect(pc.localDescription).toEqual({ type: 'offer', sdp: 'v=0 local' });
    expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'v=0 remote' });
    // A description the engine refused is not kept, and the refusal reaches the caller.
    await expect(pc.setLocalDescription({ type: 'offer', sdp: 'refused' })).rejects.toThrow('bad sdp');
    expect(pc.localDescription).toEqual({ type: 'offer', sdp: 'v=0 local' });
    // Everything else passes through: methods see the connection's state, writes land on it.
    expect(pc.whoAmI()).toEqual({ iceServers: [] });
    pc.onicecandidate = 'listener';
    expect(pc.onicecandidate).toBe('listener');
    expect(pc.nativeReads).toBe(0);
    // Gathering over: the native local description (with its candidates) is safe to read.
    pc.iceGatheringState = 'complete';
    expect(() => pc.localDescription).toThrow('native localDescription read');
    expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'v=0 remote' });
  });

  it('apply to @roamhq/wrtc only: not to other engines, nor the browser default', async () => {
    // node-datachannel is not loaded here: one native engine per test process (README,
    // "WebRTC in Node"); its adapter's shape is what matters.
    const wrtc = await nodeWebRtc('wrtc');
    expect(isNodeWebrtc(wrtc)).toBe(true);
    // Its three classes picked out, as the WebRtcImplementation type reads: still wrtc.
    const { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate } = wrtc;
    expect(isNodeWebrtc({ RTCPeerConnection, RTCSessionDescription, RTCIceCandidate })).toBe(true);
    expect(isNodeWebrtc(adaptNodeDatachannel({ RTCPeerConnection: FakeConnection, RTCSessionDescription: class {}, RTCIceCandidate: class {} } as never))).toBe(false);
    expect(isNodeWebrtc(fakeImpl)).toBe(false);
    expect(isNodeWebrtc(undefined)).toBe(false);
  });

  it('a wrapped wrtc pair still connects and carries a message', async () => {
    const wrtc = withJsSideDescriptions(await nodeWebRtc('wrtc'));
    const Pc = wrtc.RTCPeerConnection as typeof RTCPeerConnection;
    const [a, b] = [new Pc(), new Pc()];
    a.onicecandidate = (e) => e.candidate && void b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => e.candidate && void a.addIceCandidate(e.candidate);
    const channel = a.createDataChannel('x');
    const got = new Promise<string>((res) => (b.ondatachannel = (e) => (e.channel.onmessage = (m) => res(String(m.data)))));
    channel.onopen = () => channel.send('through');
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    expect(a.localDescription?.type).toBe('offer');
    expect(await got).toBe('through');
    a.close();
    b.close();
  });
});
