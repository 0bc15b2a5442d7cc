/**
 * Differential test: the same script of y-webrtc client frames, sent to y-webrtc's own
 * `bin/server.js` (spawned unchanged) and to meshparty's relay, must produce the same
 * frames at every client. The script covers what y-webrtc clients actually send:
 * subscribe (also again), publish with arbitrary extra fields, ping, unsubscribe.
 * (Publishing to a topic one has not subscribed to is a documented deviation: y-webrtc
 * clients never do it, and meshparty refuses it, so it is not in the script.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { WebSocket } from 'ws';
import { createSignalingServer } from '../../signaling/index.js';
import { type ServerProcess, startYWebrtcServer } from '../bench/support/server-process.js';

const root = resolve(import.meta.dirname, '../..');

/** One step: which client sends which frame. */
type Step = [client: number, frame: object];

const SCRIPT: Step[] = [
  [0, { type: 'subscribe', topics: ['room-a', 'room-b'] }],
  [1, { type: 'subscribe', topics: ['room-a'] }],
  [2, { type: 'subscribe', topics: ['room-b'] }],
  [0, { type: 'publish', topic: 'room-a', data: { type: 'announce', from: 'peer-0' } }],
  [1, { type: 'publish', topic: 'room-a', data: { to: 'peer-0', from: 'peer-1', type: 'signal', token: 0.25, signal: { type: 'offer', sdp: 'v=0\r\n' } } }],
  [2, { type: 'publish', topic: 'room-b', data: 'ZW5jcnlwdGVkIHBheWxvYWQ=' }],
  [1, { type: 'publish', topic: 'room-a', data: null, extra: { nested: [1, 'two', { three: 3 }] } }],
  [0, { type: 'ping' }],
  [1, { type: 'subscribe', topics: ['room-a'] }], // y-webrtc resubscribes on reconnect
  [0, { type: 'publish', topic: 'room-a', data: { type: 'announce', from: 'peer-0' } }],
  [1, { type: 'unsubscribe', topics: ['room-a'] }],
  [0, { type: 'publish', topic: 'room-a', data: { type: 'announce', from: 'peer-0' } }],
  [2, { type: 'unsubscribe', topics: ['room-b', 'never-subscribed'] }],
  [0, { type: 'publish', topic: 'room-b', data: { type: 'announce', from: 'peer-0' } }],
  [0, { type: 'subscribe', topics: ['room-c'] }],
  [0, { type: 'publish', topic: 'room-c', data: { type: 'announce', from: 'peer-0' } }],
  [1, { type: 'subscribe', topics: [] }],
  [1, { type: 'subscribe', topics: ['room-a', 'room-c', 'room-c'] }], // back in, and a duplicate
  [1, { type: 'publish', topic: 'room-c', data: { type: 'announce', from: 'peer-1' } }],
  [0, { type: 'publish', topic: 'room-a', data: { type: 'announce', from: 'peer-0' } }],
  [2, { type: 'unsubscribe', topics: [] }],
];

/** A client that records every frame it gets, and can wait for its next `pong`. */
class RecordingClient {
  readonly frames: unknown[] = [];
  private pongWaiters: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { type?: string };
      if (m.type === 'pong' && this.pongWaiters.length > 0) this.pongWaiters.shift()!();
      else this.frames.push(m);
    });
  }
  static open(url: string): Promise<RecordingClient> {
    return new Promise((resolveOpen, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const c = new RecordingClient(ws);
      ws.once('open', () => resolveOpen(c));
      ws.once('error', reject);
    });
  }
  /**
   * Resolves once the server has handled everything this client sent before: servers
   * handle one connection's frames in order and answer `ping` with `pong`.
   */
  sync(): Promise<void> {
    return new Promise((done, reject) => {
      const timer = setTimeout(() => reject(new Error('no pong within 10 s')), 10_000);
      this.pongWaiters.push(() => (clearTimeout(timer), done()));
      this.ws.send(JSON.stringify({ type: 'ping' }));
    });
  }
}

/** Run SCRIPT against the server at `url`; returns, per step, what each client received. */
async function transcript(url: string): Promise<unknown[][][]> {
  const clients = await Promise.all([0, 1, 2].map(() => RecordingClient.open(url)));
  try {
    const out: unknown[][][] = [];
    for (const [who, frame] of SCRIPT) {
      clients[who]!.ws.send(JSON.stringify(frame));
      // First the sender's barrier (the server has handled the step), then everyone's
      // (whatever the step sent them is now in front of their pong).
      await clients[who]!.sync();
      await Promise.all(clients.map((c) => c.sync()));
      out.push(clients.map((c) => c.frames.splice(0)));
    }
    return out;
  } finally {
    for (const c of clients) c.ws.terminate();
  }
}

describe('y-webrtc protocol parity with y-webrtc bin/server.js', () => {
  let baseline: ServerProcess;
  let relay: Awaited<ReturnType<typeof createSignalingServer>>;

  beforeAll(async () => {
    baseline = await startYWebrtcServer(root);
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: () => {} });
  });

  afterAll(async () => {
    await baseline?.stop();
    await relay?.close();
  });

  it('every client receives the same frames, step by step, from both servers', async () => {
    const expected = await transcript(`ws://127.0.0.1:${baseline.port}`);
    const actual = await transcript(`ws://127.0.0.1:${relay.address.port}`);
    // The script is not vacuous: the baseline delivered publishes, with `clients`.
    expect(expected.flat(2).length).toBeGreaterThanOrEqual(10);
    expect(expected[3]).toEqual([
      [{ type: 'publish', topic: 'room-a', data: { type: 'announce', from: 'peer-0' }, clients: 2 }],
      [{ type: 'publish', topic: 'room-a', data: { type: 'announce', from: 'peer-0' }, clients: 2 }],
      [],
    ]);
    for (let i = 0; i < SCRIPT.length; i++) {
      expect({ step: i, frame: SCRIPT[i], received: actual[i] }).toEqual({ step: i, frame: SCRIPT[i], received: expected[i] });
    }
  });
});
