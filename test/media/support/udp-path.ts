/**
 * A network path that can be cut, for media tests: @roamhq/wrtc whose connections offer
 * the peer only loopback IPv4 UDP candidates, each rewritten to a UDP forwarder on
 * 127.0.0.1 started here. All media then flows through forwarders, and `cut()` makes the
 * ones started so far drop every packet (the old addresses of a peer whose network
 * changed), or some of them (see Cut); forwarders started later, for the candidates an
 * ICE restart gathers, work. A path per peer: the forwarders of a peer's candidates carry
 * what the other side sends it (`into`) and its replies (`from`).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { wrtc } from './wrtc-media.js';

/**
 * What a cut drops: packets towards the connection's engine (`into`), from it (`from`);
 * with `requestsPass`, STUN binding requests still go through (a one-way failure: the side
 * whose requests pass keeps hearing answers and stays connected, the other's ICE gives up).
 */
export interface Cut {
  into: boolean;
  from: boolean;
  requestsPass: boolean;
}

/** A STUN binding request (RFC 8489: message type 0x0001, and 20 bytes of header at least). */
const isBindingRequest = (data: Buffer) => data.length >= 20 && data[0] === 0x00 && data[1] === 0x01;

/** One advertised address: packets to it go to `target`, replies come back from it. */
class Forwarder {
  cut: Cut = { into: false, from: false, requestsPass: false };
  readonly #front = createSocket('udp4');
  /** One socket towards the target per sender, so the target's replies find their way back. */
  readonly #backs = new Map<string, Socket>();
  readonly ready: Promise<number>;

  constructor(readonly targetPort: number) {
    // A packet to a connection closed meanwhile is lost, as on a network: not a test failure.
    this.#front.on('error', () => {});
    this.#front.on('message', (data, from) => this.#forward(data, from));
    this.ready = new Promise((resolve) => this.#front.bind(0, '127.0.0.1', () => resolve(this.#front.address().port)));
  }

  #forward(data: Buffer, from: RemoteInfo): void {
    if (this.#drops('into', data)) return;
    const key = `${from.address}:${from.port}`;
    let back = this.#backs.get(key);
    if (!back) {
      back = createSocket('udp4');
      back.on('error', () => {});
      back.on('message', (reply) => {
        if (!this.#drops('from', reply)) this.#front.send(reply, from.port, from.address);
      });
      back.bind(0, '127.0.0.1');
      this.#backs.set(key, back);
    }
    back.send(data, this.targetPort, '127.0.0.1');
  }

  #drops(way: 'into' | 'from', data: Buffer): boolean {
    return this.cut[way] && !(this.cut.requestsPass && isBindingRequest(data));
  }

  close(): void {
    for (const s of [this.#front, ...this.#backs.values()]) s.close();
  }
}

/**
 * @roamhq/wrtc over cuttable paths; `close()` stops every forwarder.
 *
 * @example
 * ```ts
 * const path = cuttablePath();
 * const media = createMediaShare(room, { wrtc: path.wrtc });
 * path.cut(); // the media connections fail; new candidates work
 * ```
 */
export function cuttablePath(): { wrtc: typeof wrtc; cut: (what?: Partial<Cut>) => void; close: () => void } {
  const forwarders: Forwarder[] = [];
  // wrtc hands every event to dispatchEvent (which calls `onicecandidate`): candidates are
  // rewritten there, whoever listens.
  class Proxied extends wrtc.RTCPeerConnection {
    dispatchEvent(event: { type: string; candidate?: RTCIceCandidate | null }): void {
      const line = event.type === 'icecandidate' ? event.candidate?.candidate : undefined;
      if (!line) return super.dispatchEvent(event);
      // candidate:<foundation> <component> <protocol> <priority> <address> <port> typ <type> ...
      const f = line.split(' ');
      if (f[2]?.toLowerCase() !== 'udp' || f[4] !== '127.0.0.1') return; // only the loopback path, through a forwarder
      const forwarder = new Forwarder(Number(f[5]));
      forwarders.push(forwarder);
      const { sdpMid, sdpMLineIndex } = event.candidate!;
      void forwarder.ready.then((port) => {
        f[5] = String(port);
        super.dispatchEvent({ type: 'icecandidate', candidate: { candidate: f.join(' '), sdpMid, sdpMLineIndex } });
      });
    }
  }
  return {
    wrtc: { ...wrtc, RTCPeerConnection: Proxied },
    cut: ({ into = true, from = true, requestsPass = false } = {}) => {
      for (const f of forwarders) f.cut = { into, from, requestsPass };
    },
    close: () => {
      for (const f of forwarders.splice(0)) f.close();
    },
  };
}
