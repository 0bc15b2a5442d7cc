/**
 * Sockets per address (maxSocketsPerIp): TCP sockets that never send their request and
 * upgraded WebSockets count alike; past the cap an address gets HTTP 429 while another
 * address still gets in, and closing sockets frees slots. Behind a trusted proxy the
 * proxy's sockets are not capped.
 */
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { RelayTestClient, relaysStoppedAfterEach, type TestRelay } from './client.js';

type Relay = TestRelay;
const relayWith = relaysStoppedAfterEach();
const raw: Socket[] = [];
afterEach(() => {
  for (const s of raw.splice(0)) s.destroy();
});

/** A TCP socket to the relay from `from` that sends nothing (a half-open handshake); resolves once connected. */
function silentSocket(r: Relay, from = '127.0.0.1'): Promise<Socket & { heard: () => string; ended: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port: r.relay.address.port, localAddress: from });
  raw.push(socket);
  let heard = '';
  socket.on('data', (d) => (heard += d.toString()));
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(Object.assign(socket, { heard: () => heard, ended })));
    socket.once('error', reject);
  });
}

/** The HTTP status a WebSocket handshake from `from` got: 101 when it opened. */
function upgradeStatus(r: Relay, from: string, headers: Record<string, string> = {}): Promise<{ status: number; ws: WebSocket }> {
  const ws = new WebSocket(r.relay.address.url, { localAddress: from, headers });
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, ws }));
    ws.once('error', () => resolve({ status: 0, ws }));
  });
}

describe('relay: TCP sockets per address', () => {
  it('answers 429 past the cap, before and after the upgrade alike; another address gets in; closing frees slots', async () => {
    const r = await relayWith({ maxSocketsPerIp: 4, logIntervalMs: 60_000 });
    const silent = [await silentSocket(r), await silentSocket(r), await silentSocket(r)];
    const open = await upgradeStatus(r, '127.0.0.1');
    expect(open.status).toBe(101); // the fourth socket: three silent ones and this WebSocket
    // The fifth from 127.0.0.1 is refused, whether it would send a request or not.
    const refused = await silentSocket(r);
    await refused.ended;
    expect(refused.heard()).toMatch(/^HTTP\/1\.1 429 Too Many Requests\r\n[\s\S]*too-many-sockets-from-ip\n$/);
    expect((await upgradeStatus(r, '127.0.0.1')).status).toBe(429);
    // Another address is counted on its own.
    const other = await upgradeStatus(r, '127.0.0.2');
    expect(other.status).toBe(101);
    const c = new RelayTestClient(r.relay.address.url, { localAddress: '127.0.0.2' });
    await c.opened;
    expect(await c.join('room')).toMatchObject({ type: 'joined' });
    c.close();
    // A silent socket closing frees its slot, and so does a WebSocket.
    silent[0]!.destroy();
    await waitFor(async () => (await upgradeStatus(r, '127.0.0.1')).status === 101, 'a slot freed by a silent socket', 3000);
    open.ws.terminate();
    other.ws.terminate();
    // Refusals are logged once per interval (here: the whole test, flushed at stop) with the
    // address and how many, not once per socket.
    const refusals = r.relay.metrics().rejections['too-many-sockets-from-ip'] ?? 0;
    expect(refusals).toBeGreaterThanOrEqual(2);
    await r.stop();
    const lines = r.logs.filter((l) => l.event === 'sockets-refused');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', max: 4, addresses: { '127.0.0.1': refusals }, others: 0 });
  });

  it('behind a trusted proxy, does not cap the proxy\'s sockets; upgraded connections are capped per forwarded address', async () => {
    const r = await relayWith({ maxSocketsPerIp: 2, maxConnectionsPerIp: 2, trustProxy: true });
    for (let i = 0; i < 4; i++) await silentSocket(r);
    const via = (client: string) => ({ 'x-forwarded-for': client });
    const a = await RelayTestClient.open(r.relay.address.url, { headers: via('5.5.5.5') });
    const b = await RelayTestClient.open(r.relay.address.url, { headers: via('5.5.5.5') });
    const third = new RelayTestClient(r.relay.address.url, { headers: via('5.5.5.5') });
    expect(await third.nextOf('error')).toMatchObject({ code: 'too-many-connections-from-ip' });
    const d = await RelayTestClient.open(r.relay.address.url, { headers: via('6.6.6.6') });
    expect(r.relay.metrics().rejections['too-many-sockets-from-ip']).toBeUndefined();
    for (const c of [a, b, third, d]) c.close();
  });
});
