/**
 * The ceiling for mesh throughput: a plain `RTCDataChannel` between two @roamhq/wrtc
 * peer connections in one process, fed as fast as `bufferedAmount` allows. No framing,
 * no chunk headers, no reassembly copy: the receiver only counts bytes.
 */
import wrtc from '@roamhq/wrtc';

/** A connected pair with one reliable ordered data channel, open on both ends. */
export interface RawPair {
  send: RTCDataChannel;
  recv: RTCDataChannel;
  /** The negotiated SCTP max message size (bytes), as the sender's connection reports it. */
  maxMessageSize: number;
  close(): void;
}

/** Connect two peer connections over loopback (candidates wired directly, no relay). */
export async function connectRawPair(): Promise<RawPair> {
  const a = new wrtc.RTCPeerConnection();
  const b = new wrtc.RTCPeerConnection();
  a.onicecandidate = (e) => { if (e.candidate) void b.addIceCandidate(e.candidate); };
  b.onicecandidate = (e) => { if (e.candidate) void a.addIceCandidate(e.candidate); };
  const send = a.createDataChannel('raw', { ordered: true });
  send.binaryType = 'arraybuffer';
  const recvP = new Promise<RTCDataChannel>((resolve) => {
    b.ondatachannel = (e) => resolve(e.channel);
  });
  const sendOpen = new Promise<void>((resolve) => (send.onopen = () => resolve()));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  const recv = await recvP;
  recv.binaryType = 'arraybuffer';
  if (recv.readyState !== 'open') await new Promise<void>((resolve) => (recv.onopen = () => resolve()));
  await sendOpen;
  const sctp = (a as unknown as { sctp?: { maxMessageSize?: number } }).sctp;
  return {
    send,
    recv,
    maxMessageSize: sctp?.maxMessageSize ?? 65536,
    close: () => { a.close(); b.close(); },
  };
}

/** How the sender waits while the buffer is full: re-check on `setImmediate`, or every `n` ms. */
export type RawWait = 'immediate' | number;

/**
 * Send `totalBytes` in `chunkBytes` pieces with bufferedAmount flow control (fill the
 * buffer up to `highWater`, then wait until it drains) and resolve with the elapsed
 * milliseconds once the receiver has counted every byte.
 *
 * @roamhq/wrtc has neither `bufferedAmountLowThreshold` nor `bufferedamountlow`, so the
 * sender re-checks while the buffer is full (`wait`); the event is used where the
 * implementation has it. Stay well under 16 MiB buffered: libwebrtc closes a channel
 * whose send buffer overflows.
 */
export function rawTransfer(pair: RawPair, totalBytes: number, chunkBytes: number, highWater = 4 << 20, wait: RawWait = 'immediate'): Promise<number> {
  const { send, recv } = pair;
  const chunk = new Uint8Array(chunkBytes);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
  const hasLowEvent = typeof send.bufferedAmountLowThreshold === 'number';
  return new Promise((resolve, reject) => {
    let received = 0;
    let sent = 0;
    const start = performance.now();
    const timer = setTimeout(() => reject(new Error(`raw transfer stalled at ${received}/${totalBytes}`)), 120_000);
    recv.onmessage = (e: MessageEvent) => {
      received += (e.data as ArrayBuffer).byteLength;
      if (received >= totalBytes) {
        clearTimeout(timer);
        recv.onmessage = null;
        resolve(performance.now() - start);
      }
    };
    const pump = (): void => {
      while (sent < totalBytes && send.bufferedAmount <= highWater) {
        const n = Math.min(chunkBytes, totalBytes - sent);
        send.send(n === chunkBytes ? chunk : chunk.subarray(0, n));
        sent += n;
      }
      if (sent < totalBytes && !hasLowEvent) {
        if (wait === 'immediate') setImmediate(pump);
        else setTimeout(pump, wait);
      }
    };
    if (hasLowEvent) {
      send.bufferedAmountLowThreshold = highWater >> 2;
      send.onbufferedamountlow = pump;
    }
    pump();
  });
}
