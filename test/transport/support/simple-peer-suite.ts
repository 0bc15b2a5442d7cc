/**
 * The WebRTC transport over real pairs in one process, on one Node WebRTC: the shared
 * acceptance suite, plus what only this implementation promises (one RTCPeerConnection
 * carrying both channels, SCTP-sized frames, plain Uint8Array frames, bad signals dropped).
 * Each engine runs from its own test file, so a test process loads one native library:
 * with both loaded, processes crashed now and then (a segfault inside wrtc).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type SimplePeerTransportOptions, type WebRtcImplementation, createSimplePeerTransports } from '../../../src/transport/simple-peer.js';
import type { PeerTransport } from '../../../src/transport/types.js';
import { waitFor } from '../../support/net.js';
import type { NodeWebRtcEngine } from '../../support/node-webrtc.js';
import { webRtcCensus } from '../../support/webrtc-census.js';
import { allOpen, crossWire, runTransportAcceptance } from '../acceptance.js';

const quiet = { warn: () => {} };

/** The simple-peer transport's tests on `engine`. */
export function simplePeerSuite(engine: NodeWebRtcEngine, wrtc: WebRtcImplementation): void {
  describe(`on ${engine}`, () => {

    function pair(options: SimplePeerTransportOptions = {}) {
      const factory = createSimplePeerTransports({ wrtc, logger: quiet, ...options });
      const a = factory.create({ localId: 'a', remoteId: 'b', initiator: true });
      const b = factory.create({ localId: 'b', remoteId: 'a', initiator: false });
      return { a, b };
    }

    runTransportAcceptance(`simple-peer + ${engine}`, async () => {
      const { a, b } = pair();
      crossWire(a, b);
      return { a, b, cleanup: () => (a.destroy(), b.destroy()) };
    });

    /** A side of the pair closed before all of them opened (see `retryingClosedPairs`). */
    class ClosedBeforeOpen extends Error {}

    async function opened(...ts: PeerTransport[]) {
      if (!(await allOpen(ts))) throw new ClosedBeforeOpen('a transport closed before the pair opened');
    }

    describe(`simple-peer transport specifics (${engine})`, () => {
      const live: PeerTransport[] = [];
      afterEach(() => {
        for (const t of live.splice(0)) t.destroy();
      });

      /**
       * Runs a test again, up to twice, when its pair closed before opening: libdatachannel
       * kills about 1 connection in 150 while it is being set up on a loaded machine
       * (`connection-failed`; the mesh retries such a pair). Any other failure fails at once.
       */
      const retryingClosedPairs = (test: () => Promise<void>) => async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await test();
          } catch (err) {
            if (!(err instanceof ClosedBeforeOpen) || attempt === 3) throw err;
            for (const t of live.splice(0)) t.destroy();
          }
        }
      };

      it('carries both channels on one RTCPeerConnection per side; the second one is unordered without retransmits', retryingClosedPairs(async () => {
        const rec = webRtcCensus(wrtc);
        const { a, b } = pair({ wrtc: rec.wrtc });
        live.push(a, b);
        crossWire(a, b);
        await opened(a, b);
        expect(rec.connections).toHaveLength(2);
        const made = rec.channels.filter((c) => !c.remote); // createDataChannel calls
        const unreliable = made.filter((c) => c.init?.negotiated);
        expect(unreliable).toHaveLength(2); // one per side, pre-negotiated: no extra signaling
        for (const c of unreliable) expect(c.init).toMatchObject({ ordered: false, maxRetransmits: 0, id: 1000 });
        // simple-peer's own (reliable, ordered) channel is created by the initiator only.
        expect(made.filter((c) => !c.init?.negotiated)).toHaveLength(1);
      }));

      it('leaves no long timer running once destroyed (simple-peer\'s 5 s ICE timer kept a process that left soon after connecting alive)', retryingClosedPairs(async () => {
        // Every timer of a second or more started while the pair lives, and whether it is still pending.
        const pending = new Set<unknown>();
        const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
        globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
          const handle: unknown = realSet(() => (pending.delete(handle), fn(...(args as []))), ms);
          if ((ms ?? 0) >= 1000) pending.add(handle);
          return handle;
        }) as typeof setTimeout;
        globalThis.clearTimeout = ((handle?: Parameters<typeof clearTimeout>[0]) => (pending.delete(handle), realClear(handle))) as typeof clearTimeout;
        try {
          const { a, b } = pair();
          live.push(a, b);
          crossWire(a, b);
          await opened(a, b);
          expect(pending.size).toBeGreaterThan(0); // simple-peer's ICE timer, at least: the check below can fail
          a.destroy();
          b.destroy();
          await new Promise((r) => realSet(r, 50));
          expect(pending.size).toBe(0);
        } finally {
          globalThis.setTimeout = realSet;
          globalThis.clearTimeout = realClear;
        }
      }));

      it('sizes frames from the negotiated SCTP limit, capped by maxFrameBytes', retryingClosedPairs(async () => {
        const small = pair({ maxFrameBytes: 32 * 1024 });
        const big = pair({ maxFrameBytes: 4 * 1024 * 1024 });
        live.push(small.a, small.b, big.a, big.b);
        crossWire(small.a, small.b);
        crossWire(big.a, big.b);
        await opened(small.a, small.b, big.a, big.b);
        expect(small.a.maxMessageSize).toBe(32 * 1024);
        expect(small.b.maxMessageSize).toBe(32 * 1024);
        // Both engines negotiate 256 KiB; asking for more gets the connection's limit, not a broken send.
        expect(big.a.maxMessageSize).toBe(256 * 1024);
        expect(big.b.maxMessageSize).toBe(256 * 1024);
        const got: Uint8Array[] = [];
        big.b.on('frame', (f) => got.push(f.data));
        big.a.send('reliable', new Uint8Array(256 * 1024).fill(7));
        await waitFor(() => got.length === 1, 'a 256 KiB frame');
        expect(got[0]!.byteLength).toBe(256 * 1024);
      }));

      it('hands frames over as plain Uint8Array (not Node Buffers) on both reliabilities', retryingClosedPairs(async () => {
        const { a, b } = pair();
        live.push(a, b);
        crossWire(a, b);
        await opened(a, b);
        const got: Array<{ reliability: string; data: Uint8Array }> = [];
        b.on('frame', (f) => got.push(f));
        a.send('reliable', Uint8Array.of(1, 2, 3));
        for (let i = 0; i < 5; i++) a.send('unreliable', Uint8Array.of(9));
        await waitFor(() => got.some((f) => f.reliability === 'reliable') && got.some((f) => f.reliability === 'unreliable'), 'frames');
        for (const f of got) {
          expect(Object.getPrototypeOf(f.data)).toBe(Uint8Array.prototype);
          expect(Buffer.isBuffer(f.data)).toBe(false);
        }
      }));

      it('drops malformed signals from the remote without throwing, and still connects', retryingClosedPairs(async () => {
        const warnings: string[] = [];
        const factory = createSimplePeerTransports({ wrtc, logger: { warn: (m) => warnings.push(m) } });
        const a = factory.create({ localId: 'a', remoteId: 'b', initiator: true });
        const b = factory.create({ localId: 'b', remoteId: 'a', initiator: false });
        live.push(a, b);
        const closes: string[] = [];
        b.on('close', ({ reason }) => closes.push(reason));
        for (const bad of [null, 'not json {', 42, [], { type: 'offer' }, { type: 'bogus' }, { candidate: 5 }, { type: 'answer', sdp: 7 }]) {
          expect(() => b.signal(bad)).not.toThrow();
        }
        expect(warnings.length).toBe(8);
        crossWire(a, b);
        await opened(a, b);
        expect(closes).toEqual([]);
      }));

      it('sends each side\'s candidates inside its description, UDP only: a connection costs the relay a handful of messages', retryingClosedPairs(async () => {
        const { a, b } = pair();
        live.push(a, b);
        const sent: Array<{ type?: string; sdp?: string; candidates?: Array<{ candidate: string }> }> = [];
        a.on('signal', (s) => sent.push(s as (typeof sent)[number]));
        b.on('signal', (s) => sent.push(s as (typeof sent)[number]));
        crossWire(a, b);
        await opened(a, b);
        await new Promise((r) => setTimeout(r, 200)); // let any straggler batch show up before counting
        const descriptions = sent.filter((s) => s.type === 'offer' || s.type === 'answer');
        expect(descriptions.map((d) => d.type)).toEqual(['offer', 'answer']);
        const inSdp = descriptions.flatMap((d) => d.sdp!.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')));
        const batched = sent.filter((s) => s.type === 'candidates').flatMap((s) => s.candidates ?? []);
        // Host candidates are gathered within the 20 ms a description waits.
        expect(inSdp.length).toBeGreaterThan(0);
        expect(sent.length).toBeLessThanOrEqual(4);
        for (const c of [...inSdp.map((l) => l.slice(2)), ...batched.map((c) => c.candidate)]) expect(c.split(' ')[2]!.toLowerCase()).toBe('udp'); // libdatachannel writes UDP
      }));

      it('with candidateBatchMs 0 sends the description at once and candidates in their own signals', retryingClosedPairs(async () => {
        const { a, b } = pair({ candidateBatchMs: 0 });
        live.push(a, b);
        const sent: Array<{ type?: string; candidates?: unknown[] }> = [];
        a.on('signal', (s) => sent.push(s as (typeof sent)[number]));
        crossWire(a, b);
        await opened(a, b);
        expect(sent[0]?.type).toBe('offer');
        expect(sent.filter((s) => s.type === 'candidates').length).toBeGreaterThan(0);
      }));

      it('drops malformed candidate batches without throwing', async () => {
        const warnings: string[] = [];
        const factory = createSimplePeerTransports({ wrtc, logger: { warn: (m) => warnings.push(m) } });
        const t = factory.create({ localId: 'b', remoteId: 'a', initiator: false });
        live.push(t);
        for (const bad of [
          { type: 'candidates', candidates: 'nope' },
          { type: 'candidates', candidates: [{ candidate: 7 }] },
          { type: 'candidates', candidates: Array.from({ length: 65 }, () => ({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' })) },
        ]) {
          expect(() => t.signal(bad)).not.toThrow();
        }
        expect(warnings).toEqual(Array(3).fill('dropped a malformed candidate batch'));
      });

      it('reports a remote that goes away as close on this side', retryingClosedPairs(async () => {
        const { a, b } = pair();
        live.push(a, b);
        crossWire(a, b);
        await opened(a, b);
        const reasons: string[] = [];
        b.on('close', ({ reason }) => reasons.push(reason));
        a.destroy();
        await waitFor(() => reasons.length === 1, 'remote close', 15_000);
      }));
    });
  });
}
