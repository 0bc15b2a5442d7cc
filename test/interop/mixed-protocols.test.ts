/**
 * y-webrtc clients and meshparty clients on one relay at once, using the same name for
 * a y-webrtc topic and a meshparty room: neither protocol sees the other's traffic, so
 * an existing y-webrtc app can share a relay with meshparty apps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createSignalingServer } from '../../signaling/index.js';

type Frame = { type: string; [k: string]: unknown };

/** A raw client that records frames and can wait until the relay has handled its sends. */
class Client {
  readonly frames: Frame[] = [];
  private pongs: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as Frame;
      if (m.type === 'pong' && this.pongs.length > 0) this.pongs.shift()!();
      else this.frames.push(m);
    });
  }
  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const c = new Client(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }
  send(m: object): void {
    this.ws.send(JSON.stringify(m));
  }
  /** Resolves once the relay has handled everything sent before, and sent us what it caused. */
  sync(): Promise<void> {
    return new Promise((done, reject) => {
      const t = setTimeout(() => reject(new Error('no pong within 10 s')), 10_000);
      this.pongs.push(() => (clearTimeout(t), done()));
      this.send({ type: 'ping' });
    });
  }
  take(): Frame[] {
    return this.frames.splice(0);
  }
}

describe('y-webrtc and meshparty clients sharing one relay and one name', () => {
  let relay: Awaited<ReturnType<typeof createSignalingServer>>;
  let m1: Client, m2: Client, y1: Client, y2: Client;
  /** Peer ids in "shared", from the `joined` replies. */
  let m1Id: string;
  let m2Id: string;
  const all = (): Client[] => [m1, m2, y1, y2];
  const syncAll = async (first: Client): Promise<void> => {
    await first.sync();
    await Promise.all(all().map((c) => c.sync()));
  };

  beforeAll(async () => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: () => {} });
    const url = `ws://127.0.0.1:${relay.address.port}`;
    const opened = await Promise.all([0, 1, 2, 3].map(() => Client.open(url)));
    [m1, m2, y1, y2] = opened as [Client, Client, Client, Client];
  });

  afterAll(async () => {
    for (const c of all()) c?.ws.terminate();
    await relay?.close();
  });

  it('joins and subscribes to "shared" only reach their own protocol', async () => {
    y1.send({ type: 'subscribe', topics: ['shared'] });
    m1.send({ type: 'join', v: 1, room: 'shared' });
    await syncAll(m1);
    y2.send({ type: 'subscribe', topics: ['shared'] });
    m2.send({ type: 'join', v: 1, room: 'shared' });
    await syncAll(m2);

    const [j1, ...rest1] = m1.take();
    const [j2, ...rest2] = m2.take();
    expect(j1).toMatchObject({ type: 'joined', room: 'shared', peers: [] });
    m1Id = j1!.peerId as string;
    m2Id = j2!.peerId as string;
    // m2 sees only m1 in the room, m1 only m2 joining: no y-webrtc subscriber is a meshparty peer.
    expect(j2).toMatchObject({ type: 'joined', room: 'shared', peers: [m1Id] });
    expect(rest2).toEqual([]);
    expect(rest1).toEqual([{ type: 'peer-joined', room: 'shared', peerId: m2Id }]);
    expect(y1.take()).toEqual([]);
    expect(y2.take()).toEqual([]);
    expect(relay.metrics()).toMatchObject({ rooms: 1, topics: 1 });
  });

  it('a y-webrtc publish reaches the two subscribers, not the meshparty peers', async () => {
    y1.send({ type: 'publish', topic: 'shared', data: { type: 'announce', from: 'y1' } });
    await syncAll(y1);
    const expected = { type: 'publish', topic: 'shared', data: { type: 'announce', from: 'y1' }, clients: 2 };
    expect(y1.take()).toEqual([expected]);
    expect(y2.take()).toEqual([expected]);
    expect(m1.take()).toEqual([]);
    expect(m2.take()).toEqual([]);
  });

  it('a meshparty signal reaches its one peer, not the y-webrtc subscribers', async () => {
    m1.send({ type: 'signal', room: 'shared', to: m2Id, data: { type: 'offer', sdp: 'v=0' } });
    await syncAll(m1);
    expect(m2.take()).toEqual([{ type: 'signal', room: 'shared', from: m1Id, data: { type: 'offer', sdp: 'v=0' } }]);
    expect(m1.take()).toEqual([]);
    expect(y1.take()).toEqual([]);
    expect(y2.take()).toEqual([]);
  });

  it('a meshparty peer leaving tells only meshparty peers', async () => {
    m2.send({ type: 'leave', room: 'shared' });
    await syncAll(m2);
    expect(m1.take()).toEqual([{ type: 'peer-left', room: 'shared', peerId: m2Id }]);
    expect(y1.take()).toEqual([]);
    expect(y2.take()).toEqual([]);
    expect(relay.metrics().rejections).toEqual({});
  });
});
