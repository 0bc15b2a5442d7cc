/**
 * One process of the raw fan-out floor (see `raw-fanout.ts`): plain RTCPeerConnections
 * and one data channel per pair, no simple-peer, no framing, no Yjs. Signals go through
 * the bench process over IPC.
 *
 * Env: WEBRTC (wrtc | node-datachannel); YJS=1: the message is a Yjs update instead of 40
 * bytes (the sender sets a key in a Y.Map and sends the update Yjs emits on every channel,
 * the receivers apply it and count the time when their map has the key): the least any
 * Yjs sync over data channels can do, with no sync protocol and no framing.
 * IPC in:  { cmd: 'offer-to', to } | { cmd: 'signal', from, kind: 'offer' | 'answer' | 'candidate', data }
 *        | { cmd: 'fire' } | { cmd: 'exit' }
 * IPC out: { event: 'signal', to, kind, data } | { event: 'open' } | { event: 'fired', at }
 *        | { event: 'got', at } | { event: 'error', message }
 */
import wrtcModule from '@roamhq/wrtc';
import * as ndcPolyfill from 'node-datachannel/polyfill';
import * as Y from 'yjs';
import { adaptNodeDatachannel } from '../../../src/transport/node-datachannel.js';

type Pc = RTCPeerConnection;
const send = (msg: object): void => {
  if (process.connected) process.send?.(msg);
};
const now = () => performance.timeOrigin + performance.now();
// node-datachannel through meshparty's adapter, whose messages skip Node's EventTarget (the
// fastest delivery this engine has here, so the floor is a floor for meshparty too).
const engine = (process.env.WEBRTC === 'node-datachannel' ? adaptNodeDatachannel(ndcPolyfill) : wrtcModule) as unknown as { RTCPeerConnection: new (c?: RTCConfiguration) => Pc };
const pcs = new Map<number, Pc>();
const channels: RTCDataChannel[] = [];
const frame = new Uint8Array(40);
const withYjs = process.env.YJS === '1';
const doc = new Y.Doc();
const marks = doc.getMap<number>('marks');
let fired = 0;

function got(): void {
  const at = now();
  // Reported later, as the Yjs peers do, so the report does not load the machine mid-sample.
  setTimeout(() => send({ event: 'got', at }), 30);
}
// With Yjs, a peer has the edit when its map shows it (as in the Yjs latency case).
if (withYjs) marks.observe(got);
function received(e: MessageEvent): void {
  if (withYjs) Y.applyUpdate(doc, new Uint8Array(e.data as ArrayBuffer), 'remote');
  else got();
}
function adopt(ch: RTCDataChannel): void {
  ch.binaryType = 'arraybuffer';
  ch.onmessage = received;
  channels.push(ch);
}
/** Remote candidates that came before their connection's remote description (libdatachannel sends them early). */
const early = new Map<number, RTCIceCandidateInit[]>();
function connection(id: number): Pc {
  const pc = new engine.RTCPeerConnection({ iceServers: [] });
  pcs.set(id, pc);
  pc.onicecandidate = (e) => {
    if (e.candidate) send({ event: 'signal', to: id, kind: 'candidate', data: { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid } });
  };
  return pc;
}
/**
 * Candidates travel only on their own, after the description: libdatachannel sometimes
 * refuses candidates inside a remote description while its ICE transport is still being
 * set up ("remote candidate without ICE transport"), which happened here with many pairs
 * connecting at once.
 */
function withoutCandidates(sdp: string): string {
  return sdp.replace(/^a=(candidate|end-of-candidates).*\r?\n/gm, '');
}
async function described(id: number): Promise<void> {
  const pc = pcs.get(id)!;
  for (const c of early.get(id) ?? []) await pc.addIceCandidate(c).catch(() => {});
  early.delete(id);
}

process.on('message', (m: { cmd: string; to?: number; from?: number; kind?: string; data?: { sdp?: string } & RTCIceCandidateInit }) => {
  void (async () => {
    if (m.cmd === 'offer-to') {
      const pc = connection(m.to!);
      const ch = pc.createDataChannel('raw');
      ch.onopen = () => send({ event: 'open' });
      adopt(ch);
      await pc.setLocalDescription(await pc.createOffer());
      send({ event: 'signal', to: m.to, kind: 'offer', data: { sdp: withoutCandidates(pc.localDescription!.sdp) } });
    } else if (m.cmd === 'signal' && m.kind === 'offer') {
      const pc = connection(m.from!);
      pc.ondatachannel = (e) => adopt(e.channel);
      await pc.setRemoteDescription({ type: 'offer', sdp: m.data!.sdp! });
      await described(m.from!);
      await pc.setLocalDescription(await pc.createAnswer());
      send({ event: 'signal', to: m.from, kind: 'answer', data: { sdp: withoutCandidates(pc.localDescription!.sdp) } });
    } else if (m.cmd === 'signal' && m.kind === 'answer') {
      await pcs.get(m.from!)!.setRemoteDescription({ type: 'answer', sdp: m.data!.sdp! });
      await described(m.from!);
    } else if (m.cmd === 'signal' && m.kind === 'candidate') {
      const pc = pcs.get(m.from!);
      if (pc?.remoteDescription) await pc.addIceCandidate(m.data!).catch(() => {});
      else early.set(m.from!, [...(early.get(m.from!) ?? []), m.data!]);
    } else if (m.cmd === 'fire') {
      const at = now();
      if (withYjs) {
        // Listened to for this edit only: a doc with an update listener makes Yjs encode
        // every update it applies, remote ones too, which no receiver here needs.
        doc.once('update', (update: Uint8Array) => {
          for (const ch of channels) ch.send(update as Uint8Array<ArrayBuffer>);
        });
        marks.set(`${process.pid}-${fired++}`, 1);
      }
      else for (const ch of channels) ch.send(frame);
      setTimeout(() => send({ event: 'fired', at }), 30); // later, like `got`
    } else if (m.cmd === 'exit') {
      for (const pc of pcs.values()) pc.close();
      setTimeout(() => process.exit(0), 50);
    }
  })().catch((err: Error) => send({ event: 'error', message: err.message }));
});
