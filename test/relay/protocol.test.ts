import { describe, expect, it } from 'vitest';
import { InMemoryRoomDirectory, type DirectoryMember } from '../../signaling/index.js';
import { type RelayTestClient, relaysStoppedAfterEach, type TestRelay } from './client.js';

type Relay = TestRelay;
const relayWith = relaysStoppedAfterEach();

/** Join `n` fresh clients to `room`, in order, and return them with their peer ids. */
async function joinAll(relay: Relay, room: string, n: number): Promise<{ client: RelayTestClient; id: string }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const client = await relay.connect();
    const joined = await client.join(room);
    expect(joined.type).toBe('joined');
    out.push({ client, id: joined.peerId });
  }
  return out;
}

describe('relay: meshparty v1 membership', () => {
  it('tells a joiner its id and who is there, and tells the others', async () => {
    const r = await relayWith();
    const a = await r.connect();
    const ja = await a.join('room-1');
    expect(ja).toMatchObject({ type: 'joined', v: 1, room: 'room-1', peers: [] });
    expect(ja.peerId).toMatch(/^[A-Za-z0-9_-]{16}$/);

    const b = await r.connect();
    const jb = await b.join('room-1');
    expect(jb.peers).toEqual([ja.peerId]);
    expect(jb.peerId).not.toBe(ja.peerId);
    expect(await a.nextOf('peer-joined')).toEqual({ type: 'peer-joined', room: 'room-1', peerId: jb.peerId });

    b.send({ type: 'leave', room: 'room-1' });
    expect(await a.nextOf('peer-left')).toEqual({ type: 'peer-left', room: 'room-1', peerId: jb.peerId });

    const c = await r.connect();
    const jc = await c.join('room-1');
    expect(jc.peers).toEqual([ja.peerId]);
    await a.nextOf('peer-joined');
    c.close(); // a disconnect counts as leaving
    expect(await a.nextOf('peer-left')).toEqual({ type: 'peer-left', room: 'room-1', peerId: jc.peerId });
    expect(r.relay.metrics().rooms).toBe(1);
  });

  it('routes a signal to exactly the addressed peer, stamping from', async () => {
    const r = await relayWith();
    const [a, b, c] = await joinAll(r, 'r', 3);
    a!.client.send({ type: 'signal', room: 'r', to: b!.id, data: { sdp: 'x', n: 1 } });
    // A ping after the signal: once c has its pong, any stray signal would already be there.
    c!.client.send({ type: 'ping' });
    expect(await b!.client.nextOf('signal')).toEqual({ type: 'signal', room: 'r', from: a!.id, data: { sdp: 'x', n: 1 } });
    await c!.client.nextOf('pong');
    a!.client.send({ type: 'ping' });
    await a!.client.nextOf('pong');
    expect(c!.client.received.filter((m) => m.type === 'signal')).toEqual([]);
    expect(a!.client.received.filter((m) => m.type === 'signal')).toEqual([]);
  });

  it('overwrites a spoofed from', async () => {
    const r = await relayWith();
    const [a, b, c] = await joinAll(r, 'r', 3);
    a!.client.send({ type: 'signal', room: 'r', to: b!.id, from: c!.id, data: 'hi' });
    const got = await b!.client.nextOf('signal');
    expect(got.from).toBe(a!.id);
  });

  it('keeps rooms isolated', async () => {
    const r = await relayWith();
    const [a] = await joinAll(r, 'red', 1);
    const [b] = await joinAll(r, 'blue', 1);
    expect(b!.client.received[0]).toMatchObject({ peers: [] });
    // Same id space, but b is not in red: a cannot reach it there, nor in blue.
    a!.client.send({ type: 'signal', room: 'red', to: b!.id, data: 1 });
    expect(await a!.client.nextOf('error')).toMatchObject({ code: 'unknown-peer', room: 'red' });
    a!.client.send({ type: 'signal', room: 'blue', to: b!.id, data: 1 });
    expect(await a!.client.nextOf('error')).toMatchObject({ code: 'not-in-room', room: 'blue' });
    b!.client.send({ type: 'ping' });
    await b!.client.nextOf('pong');
    expect(b!.client.received.map((m) => m.type)).toEqual(['joined', 'pong']);
  });

  it('lets one connection be in several rooms with the same id', async () => {
    const r = await relayWith();
    const a = await r.connect();
    const j1 = await a.join('one');
    const j2 = await a.join('two');
    expect(j2.peerId).toBe(j1.peerId);
    const [b] = await joinAll(r, 'two', 1);
    b!.client.send({ type: 'signal', room: 'two', to: j2.peerId, data: 'x' });
    expect(await a.nextOf('signal')).toMatchObject({ room: 'two', from: b!.id });
    a.send({ type: 'join', v: 1, room: 'one' });
    expect(await a.nextOf('error')).toMatchObject({ code: 'already-joined', room: 'one' });
  });

  it('refuses a version mismatch with a clear error', async () => {
    const r = await relayWith();
    const a = await r.connect();
    const reply = await a.join('r', { v: 2 });
    expect(reply).toMatchObject({ type: 'error', code: 'version-mismatch', room: 'r' });
    expect(String(reply.message)).toContain('v1');
  });

  it('honours a proposed peerId, refuses a taken or malformed one', async () => {
    const r = await relayWith();
    const a = await r.connect();
    expect(await a.join('r', { peerId: 'alice_1' })).toMatchObject({ type: 'joined', peerId: 'alice_1' });
    const b = await r.connect();
    expect(await b.join('r', { peerId: 'alice_1' })).toMatchObject({ type: 'error', code: 'peer-id-taken' });
    expect(await b.join('r', { peerId: 'bad id!' })).toMatchObject({ type: 'error', code: 'peer-id-invalid' });
    expect(await b.join('r', { peerId: 'x'.repeat(65) })).toMatchObject({ type: 'error', code: 'peer-id-invalid' });
    // Once alice's connection is gone the id is free again (a rejoin after a relay restart).
    a.close();
    const c = await r.connect();
    let joined;
    for (let i = 0; i < 100; i++) {
      joined = await c.join('r', { peerId: 'alice_1' });
      if (joined.type === 'joined') break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(joined).toMatchObject({ type: 'joined', peerId: 'alice_1' });
  });

  it('answers ping with pong', async () => {
    const r = await relayWith();
    const a = await r.connect();
    a.send({ type: 'ping' });
    expect(await a.next()).toEqual({ type: 'pong' });
  });
});

describe('relay: room directory', () => {
  it('keeps membership and delivery behind the injected RoomDirectory', async () => {
    const calls: string[] = [];
    class RecordingDirectory extends InMemoryRoomDirectory {
      override add(room: string, member: DirectoryMember): boolean {
        calls.push(`add ${room}`);
        return super.add(room, member);
      }
      override remove(room: string, memberId: string): boolean {
        calls.push(`remove ${room}`);
        return super.remove(room, memberId);
      }
      override sendTo(room: string, memberId: string, frame: string): boolean {
        calls.push(`sendTo ${room}`);
        return super.sendTo(room, memberId, frame);
      }
      override broadcast(room: string, frame: string, exceptId?: string): number {
        calls.push(`broadcast ${room}`);
        return super.broadcast(room, frame, exceptId);
      }
    }
    const rooms = new RecordingDirectory();
    const r = await relayWith({ rooms });
    const [a, b] = await joinAll(r, 'd', 2);
    a!.client.send({ type: 'signal', room: 'd', to: b!.id, data: 1 });
    await b!.client.nextOf('signal');
    b!.client.send({ type: 'leave', room: 'd' });
    await a!.client.nextOf('peer-left');
    expect(calls).toEqual(['add d', 'broadcast d', 'add d', 'broadcast d', 'sendTo d', 'remove d', 'broadcast d']);
    expect(rooms.members('d')).toEqual([a!.id]);
    expect(r.relay.metrics().rooms).toBe(1);
  });
});

describe('relay: y-webrtc compatibility', () => {
  it('forwards publish to every subscriber, sender included, with clients', async () => {
    const r = await relayWith();
    const a = await r.connect();
    const b = await r.connect();
    const c = await r.connect();
    a.send({ type: 'subscribe', topics: ['doc'] });
    b.send({ type: 'subscribe', topics: ['doc', 'other'] });
    c.send({ type: 'subscribe', topics: ['other'] });
    // Frames are handled in order per connection, so a ping round trip means subscribed.
    for (const x of [a, b, c]) {
      x.send({ type: 'ping' });
      await x.nextOf('pong');
    }
    a.send({ type: 'publish', topic: 'doc', data: { type: 'announce', from: 'y1' } });
    const expected = { type: 'publish', topic: 'doc', data: { type: 'announce', from: 'y1' }, clients: 2 };
    expect(await a.nextOf('publish')).toEqual(expected);
    expect(await b.nextOf('publish')).toEqual(expected);
    c.send({ type: 'ping' });
    await c.nextOf('pong');
    expect(c.received.some((m) => m.type === 'publish')).toBe(false);

    b.send({ type: 'unsubscribe', topics: ['doc'] });
    a.send({ type: 'publish', topic: 'doc', data: 2 });
    expect(await a.nextOf('publish')).toMatchObject({ data: 2, clients: 1 });
    expect(r.relay.metrics().topics).toBe(2);
  });

  it('keeps topics and rooms in separate namespaces', async () => {
    const r = await relayWith();
    const a = await r.connect();
    a.send({ type: 'subscribe', topics: ['same'] });
    const [b] = await joinAll(r, 'same', 1);
    expect(b!.client.received[0]).toMatchObject({ type: 'joined', peers: [] });
    a.send({ type: 'publish', topic: 'same', data: 1 });
    await a.nextOf('publish');
    b!.client.send({ type: 'ping' });
    await b!.client.nextOf('pong');
    expect(b!.client.received.map((m) => m.type)).toEqual(['joined', 'pong']);
  });
});
