/**
 * adaptNodeDatachannel on its own, over a real node-datachannel pair in this process:
 * messages reach `onmessage` without Node's EventTarget, and still reach listeners added
 * with addEventListener, in order, once there are any.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as polyfill from 'node-datachannel/polyfill';
import { adaptNodeDatachannel } from '../../src/transport/node-datachannel.js';
import { MeshpartyError } from '../../src/util/errors.js';
import { waitFor } from '../support/net.js';

type Channel = RTCDataChannel;
const wrtc = adaptNodeDatachannel(polyfill);
const PeerConnection = wrtc.RTCPeerConnection as unknown as typeof RTCPeerConnection;

/** Two connected peer connections and the channel between them (offerer's end, answerer's end). */
async function connectedPair(live: RTCPeerConnection[]): Promise<{ sent: Channel; got: Channel }> {
  const a = new PeerConnection({ iceServers: [] });
  const b = new PeerConnection({ iceServers: [] });
  live.push(a, b);
  a.onicecandidate = (e) => void (e.candidate && b.remoteDescription && b.addIceCandidate(e.candidate).catch(() => {}));
  b.onicecandidate = (e) => void (e.candidate && a.remoteDescription && a.addIceCandidate(e.candidate).catch(() => {}));
  const sent = a.createDataChannel('test');
  let got: Channel | undefined;
  b.ondatachannel = (e) => (got = e.channel);
  await a.setLocalDescription(await a.createOffer());
  await waitFor(() => a.iceGatheringState === 'complete', 'offer gathered');
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await waitFor(() => b.iceGatheringState === 'complete', 'answer gathered');
  await a.setRemoteDescription(b.localDescription!);
  await waitFor(() => sent.readyState === 'open' && got?.readyState === 'open', 'channel open', 15_000);
  return { sent, got: got! };
}

describe('adaptNodeDatachannel', () => {
  const live: RTCPeerConnection[] = [];
  afterEach(() => {
    for (const pc of live.splice(0)) pc.close();
  });

  it('hands messages to onmessage directly, and to added listeners as soon as there are any', async () => {
    const { sent, got } = await connectedPair(live);
    const viaProperty: string[] = [];
    const viaListener: string[] = [];
    const text = (e: MessageEvent) => new TextDecoder().decode(e.data as ArrayBuffer);
    got.binaryType = 'arraybuffer';
    got.onmessage = (e) => viaProperty.push(text(e));
    // The polyfill's own dispatch would pass through EventTarget.prototype.dispatchEvent.
    let dispatched = 0;
    const original = EventTarget.prototype.dispatchEvent;
    EventTarget.prototype.dispatchEvent = function (this: EventTarget, e: Event) {
      if (e.type === 'message') dispatched++;
      return original.call(this, e);
    };
    try {
      for (const m of ['one', 'two']) sent.send(new TextEncoder().encode(m));
      await waitFor(() => viaProperty.length === 2, 'two messages');
      expect(dispatched).toBe(0);
      got.addEventListener('message', (e) => viaListener.push(text(e as MessageEvent)));
      sent.send(new TextEncoder().encode('three'));
      await waitFor(() => viaListener.length === 1 && viaProperty.length === 3, 'third message, both ways');
      expect(dispatched).toBe(1);
    } finally {
      EventTarget.prototype.dispatchEvent = original;
    }
    expect(viaProperty).toEqual(['one', 'two', 'three']);
    expect(viaListener).toEqual(['three']);
  });

  it('still dispatches the channel\'s other events (close) to listeners and handlers', async () => {
    const { sent, got } = await connectedPair(live);
    const seen: string[] = [];
    got.addEventListener('close', () => seen.push('listener'));
    got.onclose = () => seen.push('handler');
    sent.close();
    await waitFor(() => seen.length === 2, 'close seen both ways', 10_000);
    expect(seen.sort()).toEqual(['handler', 'listener']);
  });

  it('refuses a module that is not the polyfill, with a stable code', () => {
    expect(() => adaptNodeDatachannel({} as never)).toThrow(MeshpartyError);
    try {
      adaptNodeDatachannel({} as never);
    } catch (err) {
      expect((err as MeshpartyError).code).toBe('bad-argument');
    }
  });
});
