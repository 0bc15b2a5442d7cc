import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { RelayTestClient, relaysStoppedAfterEach, type TestRelay } from './client.js';

type Relay = TestRelay;
const relayWith = relaysStoppedAfterEach();

describe('relay limits: each one is hit and reported with its code', () => {
  it('frame size: error frame-too-large, then close 1009', async () => {
    const r = await relayWith({ maxFrameBytes: 1024 });
    const a = await r.connect();
    a.send({ type: 'ping', pad: 'x'.repeat(1100) });
    expect(await a.nextOf('error')).toMatchObject({ code: 'frame-too-large' });
    expect((await a.closed).code).toBe(1009);
    // Far over the limit: ws cuts it off before buffering it, still 1009 and still counted.
    const b = await r.connect();
    b.send({ type: 'ping', pad: 'x'.repeat(10_000) });
    expect((await b.closed).code).toBe(1009);
    await waitFor(() => r.relay.metrics().rejections['frame-too-large'] === 2, 'both oversize frames counted');
    // A frame at the limit is fine.
    const c = await r.connect();
    const pad = 'x'.repeat(1024 - JSON.stringify({ type: 'ping', pad: '' }).length);
    c.send({ type: 'ping', pad });
    expect(await c.next()).toEqual({ type: 'pong' });
  });

  it('message rate: a token bucket refuses with rate-limited, answering a burst over it once', async () => {
    // A rate this low never refills during the test, so exactly `burst` frames pass.
    const r = await relayWith({ messagesPerSecond: 0.001, messageBurst: 5 });
    const a = await r.connect();
    for (let i = 0; i < 8; i++) a.send({ type: 'ping' });
    for (let i = 0; i < 6; i++) await a.next();
    a.send({ type: 'ping' }); // one more, refused silently too: the pongs and one error are all there is
    await waitFor(() => r.relay.metrics().rejections['rate-limited'] === 4, 'every refusal counted');
    expect(a.received.filter((m) => m.type === 'pong')).toHaveLength(5);
    expect(a.received.filter((m) => m.code === 'rate-limited')).toHaveLength(1);
  });

  it('message rate: a burst over the rate is one strike; flooding on reaches abuse', async () => {
    let now = 1_000_000;
    const r = await relayWith({ messagesPerSecond: 0.001, messageBurst: 5, strikeLimit: 3, now: () => now });
    const a = await r.connect();
    for (let i = 0; i < 50; i++) a.send({ type: 'ping' }); // 45 over the rate, at one instant
    await a.nextOf('error', 'rate-limited');
    await waitFor(() => r.relay.metrics().rejections['rate-limited'] === 45, 'the burst refused');
    expect(a.ws.readyState).toBe(a.ws.OPEN);
    // Still over the rate, twice more a while later: three strikes.
    now += 300;
    a.send({ type: 'ping' });
    await waitFor(() => a.received.filter((m) => m.code === 'rate-limited').length === 2, 'a second strike');
    now += 300;
    a.send({ type: 'ping' });
    expect((await a.closed).code).toBe(1008);
    expect(a.received.some((m) => m.code === 'abuse')).toBe(true);
  });

  it('byte rate: a member cannot push more than the byte budget at another; a frame over the burst passes on a full bucket', async () => {
    // The message rate would let all of these through; the byte budget (never refilled here) does not.
    const r = await relayWith({ bytesPerSecond: 0.001, byteBurst: 10_000 });
    const sender = await r.connect();
    const receiver = await r.connect();
    await sender.join('r'); // ~30 bytes of the budget
    const to = (await receiver.join('r')).peerId;
    const data = 'x'.repeat(3000);
    for (let i = 0; i < 5; i++) sender.send({ type: 'signal', room: 'r', to, data });
    expect(await sender.nextOf('error', 'rate-limited')).toMatchObject({ message: 'over the byte rate limit' });
    await waitFor(() => r.relay.metrics().rejections['rate-limited'] === 2, 'the 4th and 5th refused');
    receiver.send({ type: 'ping' });
    await receiver.nextOf('pong'); // whatever was forwarded has arrived
    expect(receiver.received.filter((m) => m.type === 'signal')).toHaveLength(3);

    // A burst smaller than a frame: the frame passes on a full bucket, then the debt holds the next back.
    const small = await relayWith({ bytesPerSecond: 0.001, byteBurst: 100 });
    const c = await small.connect();
    c.send({ type: 'ping', pad: 'y'.repeat(500) });
    expect(await c.next()).toEqual({ type: 'pong' });
    c.send({ type: 'ping' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'rate-limited' });
  });

  it('join rate: one address joining and leaving under fresh peer ids is refused past its burst; other addresses join', async () => {
    // Addresses told apart by the proxy header, so one machine can play three clients.
    const r = await relayWith({ trustProxy: true, joinsPerSecond: 0.001, joinBurst: 3 });
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const member = await r.connect(from('10.0.0.1'));
    await member.join('r');
    const churner = await r.connect(from('10.0.0.2'));
    for (let i = 0; i < 6; i++) {
      churner.send({ type: 'join', v: 1, room: 'r', peerId: `fresh${i}` });
      churner.send({ type: 'leave', room: 'r' });
    }
    expect(await churner.nextOf('error', 'rate-limited')).toMatchObject({ message: 'over the join rate for your address', room: 'r' });
    const other = await r.connect(from('10.0.0.3'));
    expect((await other.join('r')).type).toBe('joined');
    await member.next((m) => m.type === 'peer-joined' && m.peerId === (other.received[0] as { peerId?: string }).peerId);
    // The member heard of the churner's first three joins only.
    expect(member.received.filter((m) => m.type === 'peer-joined').map((m) => m.peerId)).toEqual(['fresh0', 'fresh1', 'fresh2', expect.any(String)]);
  });

  it('rooms per connection: rooms and topics both count', async () => {
    const r = await relayWith({ maxRoomsPerConnection: 2 });
    const a = await r.connect();
    expect(await a.join('one')).toMatchObject({ type: 'joined' });
    a.send({ type: 'subscribe', topics: ['topic-a'] });
    expect(await a.join('two')).toMatchObject({ type: 'error', code: 'too-many-rooms' });
    a.send({ type: 'subscribe', topics: ['topic-b'] });
    expect(await a.nextOf('error')).toMatchObject({ code: 'too-many-rooms', room: 'topic-b' });
    a.send({ type: 'leave', room: 'one' });
    expect(await a.join('two')).toMatchObject({ type: 'joined' });
  });

  it('peers per room: room-full for rooms and topics', async () => {
    const r = await relayWith({ maxPeersPerRoom: 2 });
    const [a, b, c] = [await r.connect(), await r.connect(), await r.connect()];
    await a.join('r');
    await b.join('r');
    expect(await c.join('r')).toMatchObject({ type: 'error', code: 'room-full', room: 'r' });
    for (const x of [a, b, c]) x.send({ type: 'subscribe', topics: ['t'] });
    expect(await c.nextOf('error')).toMatchObject({ code: 'room-full', room: 't' });
    expect(r.relay.metrics().rejections['room-full']).toBe(2);
  });

  it('room name length: empty and too-long names are refused', async () => {
    const r = await relayWith({ maxRoomNameLength: 8 });
    const a = await r.connect();
    expect(await a.join('12345678')).toMatchObject({ type: 'joined' });
    a.send({ type: 'join', v: 1, room: '123456789' });
    // The refused name is echoed cut to the limit, never at full length.
    expect(await a.nextOf('error')).toMatchObject({ code: 'room-name-invalid', room: '12345678' });
    a.send({ type: 'join', v: 1, room: '' });
    expect(await a.nextOf('error')).toMatchObject({ code: 'room-name-invalid' });
    a.send({ type: 'subscribe', topics: ['x'.repeat(9)] });
    expect(await a.nextOf('error')).toMatchObject({ code: 'room-name-invalid', room: 'x'.repeat(8) });
  });

  it('total connections: server-full, close 1013', async () => {
    const r = await relayWith({ maxConnections: 2 });
    await r.connect();
    await r.connect();
    const third = new RelayTestClient(r.relay.address.url);
    expect(await third.nextOf('error')).toMatchObject({ code: 'server-full' });
    expect((await third.closed).code).toBe(1013);
    expect(r.relay.metrics()).toMatchObject({ connections: 2, rejections: { 'server-full': 1 } });
  });

  it('connections per IP: too-many-connections-from-ip, close 1008', async () => {
    const r = await relayWith({ maxConnectionsPerIp: 2 });
    const first = await r.connect();
    await r.connect();
    const third = new RelayTestClient(r.relay.address.url);
    expect(await third.nextOf('error')).toMatchObject({ code: 'too-many-connections-from-ip' });
    expect((await third.closed).code).toBe(1008);
    // A slot frees when a connection ends.
    first.close();
    await waitFor(() => r.relay.metrics().connections === 1, 'first connection gone');
    await r.connect();
  });

  it('connections per IP behind a proxy: counted by the last X-Forwarded-For entry', async () => {
    const r = await relayWith({ maxConnectionsPerIp: 1, trustProxy: true });
    const viaProxy = (client: string) => ({ headers: { 'x-forwarded-for': `6.6.6.6, ${client}` } });
    await r.connect(viaProxy('10.0.0.1'));
    await r.connect(viaProxy('10.0.0.2')); // another client, same proxy: allowed
    const again = new RelayTestClient(r.relay.address.url, viaProxy('10.0.0.1'));
    expect(await again.nextOf('error')).toMatchObject({ code: 'too-many-connections-from-ip' });
    // Same /64, different host: one IPv6 client.
    await r.connect(viaProxy('2001:db8:1:2::1'));
    const sameNet = new RelayTestClient(r.relay.address.url, viaProxy('2001:db8:1:2:ffff::9'));
    expect(await sameNet.nextOf('error')).toMatchObject({ code: 'too-many-connections-from-ip' });
  });

  it('origin allowlist: other origins are refused with 1008', async () => {
    const r = await relayWith({ allowedOrigins: ['https://ok.example'] });
    const bad = new RelayTestClient(r.relay.address.url, { origin: 'https://evil.example' });
    expect(await bad.nextOf('error')).toMatchObject({ code: 'origin-not-allowed' });
    expect((await bad.closed).code).toBe(1008);
    const none = new RelayTestClient(r.relay.address.url);
    expect((await none.closed).code).toBe(1008);
    const good = await r.connect({ origin: 'https://ok.example' });
    good.send({ type: 'ping' });
    expect(await good.next()).toEqual({ type: 'pong' });
  });

  it('slow consumer: a client that stops reading is dropped at the buffer cap', async () => {
    const r = await relayWith({ maxBufferedBytes: 256 * 1024, messagesPerSecond: 1e6, messageBurst: 1e6, bytesPerSecond: 1e12, byteBurst: 1e12, strikeLimit: 1e6 });
    const sender = await r.connect();
    const slow = await r.connect();
    await sender.join('r');
    const slowId = (await slow.join('r')).peerId;
    // Stop reading: the kernel buffers fill, then the relay's send buffer grows.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const data = 'x'.repeat(30_000);
    for (let round = 0; round < 400 && r.relay.metrics().slowConsumerDrops === 0; round++) {
      for (let i = 0; i < 10; i++) sender.send({ type: 'signal', room: 'r', to: slowId, data });
      sender.send({ type: 'ping' });
      await sender.nextOf('pong');
    }
    expect(r.relay.metrics().slowConsumerDrops).toBe(1);
    await waitFor(() => sender.received.some((m) => m.type === 'peer-left' && m.peerId === slowId), 'peer-left for the slow client');
    expect(r.logs.some((l) => l.event === 'slow-consumer-dropped')).toBe(true);
    // The sender is unaffected.
    sender.send({ type: 'ping' });
    expect(await sender.nextOf('pong')).toEqual({ type: 'pong' });
  });

  it('slow consumers together: over the relay-wide cap, the reader with the most waiting is dropped', async () => {
    // Each reader's own cap is far off; together they pass 512 KiB.
    const r = await relayWith({ maxBufferedBytes: 1e9, maxTotalBufferedBytes: 512 * 1024, messagesPerSecond: 1e6, messageBurst: 1e6, bytesPerSecond: 1e12, byteBurst: 1e12, strikeLimit: 1e6 });
    const sender = await r.connect();
    const [big, small] = [await r.connect(), await r.connect()];
    await sender.join('r');
    const bigId = (await big.join('r')).peerId;
    const smallId = (await small.join('r')).peerId;
    for (const c of [big, small]) (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const data = 'x'.repeat(30_000);
    // Up to 24 MB to `big`, a tenth of it to `small`: past the kernel's buffers either way.
    for (let round = 0; round < 80 && r.relay.metrics().slowConsumerDrops === 0; round++) {
      for (let i = 0; i < 10; i++) sender.send({ type: 'signal', room: 'r', to: bigId, data });
      sender.send({ type: 'signal', room: 'r', to: smallId, data });
      sender.send({ type: 'ping' });
      await sender.nextOf('pong');
    }
    expect(r.relay.metrics().slowConsumerDrops).toBe(1);
    await waitFor(() => sender.received.some((m) => m.type === 'peer-left' && m.peerId === bigId), 'peer-left for the biggest reader');
    expect(r.logs.find((l) => l.event === 'slow-consumer-dropped')).toMatchObject({ relayTotal: expect.any(Number) });
    expect(sender.received.some((m) => m.type === 'peer-left' && m.peerId === smallId)).toBe(false);
  });

  it('slow consumer: the buffer cap counts UTF-8 bytes, not characters', async () => {
    // A cap smaller than one frame in bytes (1 200 of euro signs) but not in characters (400).
    const r = await relayWith({ maxBufferedBytes: 1000 });
    const sender = await r.connect();
    const receiver = await r.connect();
    await sender.join('r');
    const id = (await receiver.join('r')).peerId;
    sender.send({ type: 'signal', room: 'r', to: id, data: '€'.repeat(400) });
    await receiver.closed;
    expect(r.relay.metrics().slowConsumerDrops).toBe(1);
  });

  it('slow consumer dropped by its own joined: the room hears peer-left, never a peer-joined after it', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => String(i).repeat(64));
    // Room for every member's own `joined`, not for a 7th joiner's (one more id listed).
    const cap = JSON.stringify({ type: 'joined', v: 1, room: 'r', peerId: ids[5], peers: ids.slice(0, 5) }).length + 4;
    const r = await relayWith({ maxBufferedBytes: cap });
    const members: RelayTestClient[] = [];
    for (const peerId of ids) {
      const c = await r.connect();
      expect((await c.join('r', { peerId })).type).toBe('joined');
      members.push(c);
    }
    const joiner = await r.connect();
    joiner.send({ type: 'join', v: 1, room: 'r' }); // its `joined` lists 6 ids: over the cap
    await joiner.closed;
    expect(r.relay.metrics().slowConsumerDrops).toBe(1);
    const first = members[0]!;
    await waitFor(() => first.received.some((m) => m.type === 'peer-left'), 'peer-left');
    first.send({ type: 'ping' });
    await first.nextOf('pong'); // anything else in flight has arrived
    const events = first.received.filter((m) => m.type === 'peer-joined' || m.type === 'peer-left').map((m) => m.type);
    expect(events.at(-1)).toBe('peer-left');
  });

  it('handshake timeout: a TCP connection that never sends its upgrade is closed', async () => {
    const r = await relayWith({ handshakeTimeoutMs: 300 });
    const socket = connect(r.relay.address.port, '127.0.0.1');
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const start = Date.now();
      socket.on('close', () => resolve(Date.now() - start));
      socket.on('error', () => {});
      setTimeout(() => reject(new Error('still open after 5 s')), 5000).unref();
    });
    expect(closedAfter).toBeGreaterThanOrEqual(250);
  });

  it('heartbeat: a client that does not answer pings is terminated; a live one stays', async () => {
    // Not shorter: relay and clients share this process's event loop, and a stall longer
    // than one interval on a loaded machine would look like a missed pong from the live client.
    const r = await relayWith({ heartbeatIntervalMs: 1000 });
    const silent = await r.connect({ autoPong: false });
    const live = await r.connect();
    await live.join('r');
    await silent.join('r');
    await silent.closed;
    expect(await live.nextOf('peer-left')).toMatchObject({ room: 'r' });
    expect(r.relay.metrics().heartbeatDrops).toBe(1);
    // The live client has answered several rounds of pings by now and is still served.
    live.send({ type: 'ping' });
    expect(await live.nextOf('pong')).toEqual({ type: 'pong' });
    expect(live.ws.readyState).toBe(live.ws.OPEN);
  });
});

describe('relay: bad input', () => {
  it('answers each kind of bad frame with its stable code', async () => {
    const r = await relayWith();
    const a = await r.connect();
    const cases: [unknown, string][] = [
      ['{not json', 'bad-json'],
      ['[1,2]', 'bad-json'],
      ['"a string"', 'bad-json'],
      ['null', 'bad-json'],
      [{ type: 'join', v: 1, room: 5 }, 'bad-message'],
      [{ type: 'join', v: 1, room: 'r', token: 7 }, 'bad-message'],
      [{ type: 'signal', room: 'r', to: 3, data: 1 }, 'bad-message'],
      [{ type: 'signal', room: 'r', to: 'x' }, 'bad-message'],
      [{ type: 'subscribe', topics: 'r' }, 'bad-message'],
      [{ type: 'subscribe', topics: ['ok', 4] }, 'bad-message'],
      [{ type: 'publish', topic: {} }, 'bad-message'],
      [{ type: 'leave' }, 'bad-message'],
      [{ noType: true }, 'bad-message'],
      [{ type: 'teleport' }, 'unknown-type'],
      [`{"type":"signal","room":"r","to":"x","data":${'['.repeat(5000)}${']'.repeat(5000)}}`, 'bad-message'],
      [{ type: 'ping', note: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ in a string is fine' }, 'pong'],
      [{ type: 'leave', room: 'never-joined' }, 'not-in-room'],
      [{ type: 'signal', room: 'never-joined', to: 'x', data: 1 }, 'not-in-room'],
      [{ type: 'publish', topic: 'not-subscribed', data: 1 }, 'not-in-room'],
    ];
    for (const [frame, code] of cases) {
      a.send(frame);
      if (code === 'pong') expect(await a.next()).toEqual({ type: 'pong' });
      else expect(await a.nextOf('error'), JSON.stringify(frame).slice(0, 80)).toMatchObject({ code });
    }
    a.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await a.nextOf('error')).toMatchObject({ code: 'binary-frame' });
    // Still served.
    a.send({ type: 'ping' });
    expect(await a.nextOf('pong')).toEqual({ type: 'pong' });
  });

  it('does not count race refusals (signal to a peer that just left) as strikes', async () => {
    const r = await relayWith({ strikeLimit: 5 });
    const a = await r.connect();
    const b = await r.connect();
    await a.join('r');
    const bId = (await b.join('r')).peerId;
    b.close();
    await a.nextOf('peer-left');
    for (let i = 0; i < 20; i++) a.send({ type: 'signal', room: 'r', to: bId, data: { candidate: i } });
    for (let i = 0; i < 20; i++) expect(await a.nextOf('error')).toMatchObject({ code: 'unknown-peer' });
    a.send({ type: 'ping' });
    expect(await a.nextOf('pong')).toEqual({ type: 'pong' });
    expect(r.relay.metrics().rejections.abuse).toBeUndefined();
  });

  it('frames the WebSocket layer refuses (not UTF-8; a ping flood) are closes logged with the relay reason, not as the client', async () => {
    const r = await relayWith();
    const closeReason = (conn: string) =>
      waitFor(() => r.logs.find((l) => l.event === 'connection-close' && l.conn === conn)?.reason, 'the close logged');
    const idOf = (nth: number) => r.logs.filter((l) => l.event === 'connection-open')[nth]!.conn as string;

    const text = await r.connect();
    text.ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false }); // a text frame that is not UTF-8
    expect((await text.closed).code).toBe(1007);
    expect(await closeReason(idOf(0))).toBe('protocol-error');

    // A burst of pings: ws terminates a client with 60 pongs not yet written out.
    const pinger = await r.connect();
    for (let i = 0; i < 1000; i++) pinger.ws.ping();
    await pinger.closed;
    expect(await closeReason(idOf(1))).toBe('ping-flood');
  });

  it('closes a repeat offender with 1008 and abuse; others notice nothing', async () => {
    const r = await relayWith({ strikeLimit: 5 });
    const good = await r.connect();
    const bad = await r.connect();
    const goodId = (await good.join('r')).peerId;
    await bad.join('r');
    for (let i = 0; i < 5; i++) bad.send('garbage');
    expect(await bad.nextOf('error', 'abuse')).toMatchObject({ code: 'abuse' });
    expect((await bad.closed).code).toBe(1008);
    expect(r.relay.metrics().rejections).toMatchObject({ 'bad-json': 5, abuse: 1 });
    // The good client only sees the offender leave.
    await good.nextOf('peer-left');
    good.send({ type: 'signal', room: 'r', to: goodId, data: 'self' });
    expect(await good.nextOf('signal')).toMatchObject({ from: goodId, data: 'self' });
    expect(good.received.map((m) => m.type)).toEqual(['joined', 'peer-joined', 'peer-left', 'signal']);
  });
});
