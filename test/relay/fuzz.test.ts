/**
 * Fuzz: at least 10,000 random and malformed frames from several abusive connections at
 * a live relay, while two well-behaved clients exchange numbered signals. The relay must
 * stay up, count the refusals, and deliver every good signal, in order.
 *
 * Reproducible: the seed is printed; rerun with FUZZ_SEED=<seed> to replay the same frames.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRng } from '../../src/util/rng.js';
import { waitFor } from '../support/net.js';
import { RelayTestClient, startRelay } from './client.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed2026);
const MAX_FRAME = 4096; // small, so frames "near and over the limit" are cheap to make
const ABUSERS = 4;
const TARGET_FRAMES = 10_000;

type Frame = { data: string | Buffer; binary?: boolean };

function frameMaker(rand: () => number): () => Frame {
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const randomString = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(pick([32 + int(95), int(32), 0x80 + int(0x700), 0x4e00 + int(200)]));
    return s;
  };
  const randomValue = (depth = 0): unknown => {
    switch (int(depth > 2 ? 5 : 8)) {
      case 0: return int(1e6) - 5e5;
      case 1: return randomString(int(20));
      case 2: return null;
      case 3: return rand() < 0.5;
      case 4: return rand() * 1e300;
      case 5: return [randomValue(depth + 1), randomValue(depth + 1)];
      case 6: return { [randomString(3)]: randomValue(depth + 1) };
      default: return undefined;
    }
  };
  const types = ['join', 'leave', 'signal', 'subscribe', 'unsubscribe', 'publish', 'ping'] as const;
  const validish = (): Record<string, unknown> => {
    const room = `fuzz-${int(40)}`;
    switch (pick(types)) {
      case 'join': return { type: 'join', v: pick([1, 1, 1, 2, 0, '1']), room, ...(rand() < 0.2 ? { peerId: randomString(int(70)) } : {}) };
      case 'leave': return { type: 'leave', room };
      case 'signal': return { type: 'signal', room, to: pick(['nobody', randomString(16)]), from: 'spoof', data: randomValue() };
      case 'subscribe': return { type: 'subscribe', topics: [room, `t-${int(40)}`] };
      case 'unsubscribe': return { type: 'unsubscribe', topics: [room] };
      case 'publish': return { type: 'publish', topic: `t-${int(40)}`, data: randomValue() };
      default: return { type: 'ping' };
    }
  };
  const makers: (() => Frame)[] = [
    () => ({ data: randomString(int(200)) }), // random text
    () => { const b = Buffer.alloc(1 + int(300)); for (let i = 0; i < b.length; i++) b[i] = int(256); return { data: b, binary: true }; },
    () => { const s = JSON.stringify(validish()); return { data: s.slice(0, int(s.length)) }; }, // truncated JSON
    () => { const m = validish(); for (const k of Object.keys(m)) if (k !== 'type' && rand() < 0.6) m[k] = randomValue(); return { data: JSON.stringify(m) }; }, // wrong types
    () => ({ data: JSON.stringify({ type: randomString(1 + int(12)), x: randomValue() }) }), // unknown types
    () => ({ data: JSON.stringify({ type: 'ping', pad: 'x'.repeat(MAX_FRAME - (rand() < 0.15 ? 0 : 200) - int(40)) }) }), // near, sometimes just over, the limit
    () => { const d = 1 + int(rand() < 0.5 ? 40 : 2000); return { data: `{"type":"signal","room":"fuzz-1","to":"x","data":${'['.repeat(d)}${']'.repeat(d)}}` }; }, // deep nesting, still under MAX_FRAME
    () => ({ data: pick(['null', '[]', '"s"', '42', 'true', '{}', '{"type":null}', '{"type":{}}']) }), // JSON non-objects
    () => ({ data: JSON.stringify(validish()) }), // valid-but-wrong (unknown peers, not joined, bad versions)
    () => ({ data: JSON.stringify(validish()) }),
  ];
  // These end the connection at once (ws closes 1009 / 1007), so they stay rare.
  const rareMakers: (() => Frame)[] = [
    () => ({ data: JSON.stringify({ type: 'publish', topic: 'x'.repeat(MAX_FRAME * (2 + int(2))) }) }), // far over: ws cuts it off
    () => ({ data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }), // invalid UTF-8 in a text frame
  ];
  return () => (rand() < 0.01 ? pick(rareMakers) : pick(makers))();
}

describe('relay fuzz', () => {
  it(`stays up and loses none of the good clients' signals under ${TARGET_FRAMES}+ malformed frames`, async () => {
    console.log(`relay fuzz seed: ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const rng = createRng(SEED);
    const rand = () => rng.next();
    const nextFrame = frameMaker(rand);
    // Every client here connects from 127.0.0.1, and abusive ones are closed and reconnect
    // over and over; the per-IP cap is raised so their churn is not what the good clients
    // run into (in production those would be different addresses). The message rate is
    // raised so the good clients' steady stream is never rate-limited; strikes stay on.
    const { relay, logs, connect, stop } = await startRelay({
      maxFrameBytes: MAX_FRAME,
      maxConnectionsPerIp: 500,
      messagesPerSecond: 2000,
      messageBurst: 500,
      strikeLimit: 50,
    });
    try {
      const a = await connect();
      const b = await connect();
      const aId = (await a.join('good-room')).peerId;
      const bId = (await b.join('good-room')).peerId;
      await a.nextOf('peer-joined');

      // Good clients: numbered signals to each other every few ms until the fuzzing ends.
      let goodRunning = true;
      const sent = { a: 0, b: 0 };
      const pump = setInterval(() => {
        if (!goodRunning) return;
        a.send({ type: 'signal', room: 'good-room', to: bId, data: { seq: sent.a++ } });
        b.send({ type: 'signal', room: 'good-room', to: aId, data: { seq: sent.b++ } });
      }, 3);

      let abuseSent = 0;
      let reconnects = 0;
      // Frames the relay actually read from abusers (frames still in flight when it closes
      // a connection are never read, so count at the relay, not at the sender).
      const abuseReceived = (): number => relay.metrics().messagesIn - sent.a - sent.b - 2;
      const deadline = Date.now() + 40_000; // a bound, not an expectation: it takes ~1-3 s
      const abuser = async (): Promise<void> => {
        while (abuseReceived() < TARGET_FRAMES && Date.now() < deadline) {
          const ws = new WebSocket(relay.address.url);
          ws.on('error', () => {});
          const opened = await new Promise<boolean>((res) => {
            ws.once('open', () => res(true));
            ws.once('close', () => res(false));
          });
          reconnects++;
          if (!opened) continue;
          // Send in small batches, yielding so the (in-process) relay processes them.
          while (ws.readyState === WebSocket.OPEN && abuseReceived() < TARGET_FRAMES && Date.now() < deadline) {
            if (rand() < 0.02) {
              // A flood: more valid pings back to back than the token bucket holds.
              for (let i = 0; i < 600 && ws.readyState === WebSocket.OPEN; i++, abuseSent++) ws.send('{"type":"ping"}');
            }
            for (let i = 0; i < 10 && ws.readyState === WebSocket.OPEN; i++) {
              const f = nextFrame();
              ws.send(f.data, { binary: f.binary ?? false });
              abuseSent++;
            }
            await new Promise((r) => setImmediate(r));
          }
          ws.terminate();
        }
      };
      await Promise.all(Array.from({ length: ABUSERS }, abuser));
      goodRunning = false;
      clearInterval(pump);
      expect(abuseReceived()).toBeGreaterThanOrEqual(TARGET_FRAMES);

      // Every good signal arrives, in order, nothing else does, and nobody was closed.
      const seqsFrom = (c: RelayTestClient, from: string): number[] =>
        c.received.filter((m) => m.type === 'signal' && m.from === from).map((m) => (m.data as { seq: number }).seq);
      await waitFor(() => seqsFrom(b, aId).length === sent.a && seqsFrom(a, bId).length === sent.b, 'all good signals', 15_000);
      expect(seqsFrom(b, aId)).toEqual(Array.from({ length: sent.a }, (_, i) => i));
      expect(seqsFrom(a, bId)).toEqual(Array.from({ length: sent.b }, (_, i) => i));
      expect(sent.a).toBeGreaterThan(50);
      for (const c of [a, b]) {
        expect(c.received.filter((m) => m.type !== 'signal').map((m) => m.type)).toEqual(c === a ? ['joined', 'peer-joined'] : ['joined']);
        expect(c.ws.readyState).toBe(WebSocket.OPEN);
      }

      // The relay is up and counted what it refused.
      const health = await fetch(relay.address.url.replace('ws:', 'http:') + '/health');
      expect(health.status).toBe(200);
      const m = relay.metrics();
      const refused = Object.values(m.rejections).reduce((s, n) => s + (n ?? 0), 0);
      console.log(`relay fuzz: ${abuseSent} abusive frames, ${reconnects} connections, ${sent.a + sent.b} good signals; relay read ${abuseReceived()} of them refusals=${JSON.stringify(m.rejections)}`);
      expect(refused).toBeGreaterThan(TARGET_FRAMES / 10);
      for (const code of ['bad-json', 'bad-message', 'unknown-type', 'binary-frame', 'frame-too-large', 'abuse', 'unknown-peer', 'version-mismatch', 'rate-limited'] as const) {
        expect(m.rejections[code], code).toBeGreaterThan(0);
      }
      expect(logs.filter((l) => l.event === 'handler-error')).toEqual([]);
      // Nothing leaks: once the abusers are gone only the good clients and their room remain.
      await waitFor(() => relay.metrics().connections === 2, 'abusive connections to be gone', 15_000);
      expect(relay.metrics()).toMatchObject({ connections: 2, rooms: 1, topics: 0 });
    } finally {
      await stop();
    }
  }, 120_000);
});
