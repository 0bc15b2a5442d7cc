import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSignalingServer, verifyRoomToken } from '../../signaling/index.js';
import { waitFor } from '../support/net.js';
import { spawnNode } from '../support/node-process.js';
import { RelayTestClient, startRelay } from './client.js';

type Relay = Awaited<ReturnType<typeof startRelay>>;
let current: Relay | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

const httpUrl = (wsUrl: string, path: string): string => wsUrl.replace(/^ws:/, 'http:') + path;
const BIN = resolve(import.meta.dirname, '../../bin/meshparty.js');

describe('relay operations', () => {
  it('serves /health, /metrics and 404 on the WebSocket port', async () => {
    current = await startRelay();
    const { url } = current.relay.address;
    const health = await fetch(httpUrl(url, '/health'));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    // Uptime monitors that probe with HEAD see it up too.
    expect((await fetch(httpUrl(url, '/health'), { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(httpUrl(url, '/metrics'), { method: 'HEAD' })).status).toBe(200);

    const a = await current.connect();
    await a.join('r');
    a.send('not json');
    await a.nextOf('error');
    const metrics = await (await fetch(httpUrl(url, '/metrics'))).json();
    expect(metrics).toMatchObject({ connections: 1, rooms: 1, topics: 0, messagesIn: 2, messagesOut: 2, rejections: { 'bad-json': 1 } });
    expect((await fetch(httpUrl(url, '/nope'))).status).toBe(404);
  });

  it('refuses nonsensical options', async () => {
    await expect(createSignalingServer({ port: 0, maxPeersPerRoom: 0 })).rejects.toThrow(RangeError);
    await expect(createSignalingServer({ port: 0, messagesPerSecond: Number.NaN })).rejects.toThrow(/messagesPerSecond/);
    await expect(createSignalingServer({ port: 0, heartbeatIntervalMs: Infinity })).rejects.toThrow(/heartbeatIntervalMs/);
    await expect(createSignalingServer({ port: 70_000 })).rejects.toThrow(/port/);
    // Infinity is "no limit" for limits (not for timer periods).
    current = await startRelay({ maxConnectionsPerIp: Infinity, strikeLimit: Infinity });
    const a = await current.connect();
    for (let i = 0; i < 50; i++) a.send('junk');
    for (let i = 0; i < 50; i++) await a.nextOf('error', 'bad-json');
    expect(a.ws.readyState).toBe(a.ws.OPEN);
  });

  it('closes every client with 1001 on close(), then refuses new ones', async () => {
    const r = (current = await startRelay());
    const a = await r.connect();
    const b = await r.connect();
    await a.join('r');
    await b.join('r');
    await r.relay.close();
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    // Shutdown does not announce departures to clients that are being closed anyway.
    expect([...a.received, ...b.received].filter((m) => m.type === 'peer-left')).toEqual([]);
    await r.relay.close(); // idempotent
    const late = new RelayTestClient(r.relay.address.url);
    await expect(late.opened).rejects.toThrow();
    const events = r.logs.map((l) => l.event);
    expect(events[0]).toBe('start');
    expect(events.at(-1)).toBe('stop');
    expect(events.filter((e) => e === 'connection-close')).toHaveLength(2);
  });

  it('never writes signal or publish payloads to the log', async () => {
    const r = (current = await startRelay({ logIntervalMs: 10 }));
    const a = await r.connect();
    const b = await r.connect();
    await a.join('r');
    const bId = (await b.join('r')).peerId;
    const secretish = 'v=0 o=- 4611731400430051336 SECRET-SDP-MARKER';
    a.send({ type: 'signal', room: 'r', to: bId, data: { sdp: secretish } });
    await b.nextOf('signal');
    a.send({ type: 'signal', room: 'r', to: 'nobody', data: { sdp: secretish } });
    await a.nextOf('error');
    a.send(`{"type":"signal","room":"r","to":"${bId}","data":"${secretish}"`); // truncated JSON
    await a.nextOf('error');
    a.send({ type: 'subscribe', topics: ['t'] });
    a.send({ type: 'publish', topic: 't', data: secretish });
    await a.nextOf('publish');
    await waitFor(() => r.logs.some((l) => l.event === 'refusals'), 'aggregated refusal line');
    await r.relay.close();
    const text = r.logs.map((l) => JSON.stringify(l)).join('\n');
    expect(text).not.toContain('SECRET-SDP-MARKER');
    // Refusals are aggregated counts, not one line per frame.
    const summed: Record<string, number> = {};
    for (const l of r.logs.filter((l) => l.event === 'refusals')) {
      for (const [code, n] of Object.entries(l.counts as Record<string, number>)) summed[code] = (summed[code] ?? 0) + n;
    }
    expect(summed).toEqual({ 'unknown-peer': 1, 'bad-json': 1 });
  });

  it('CLI: `meshparty signal` answers /health and exits cleanly on SIGTERM', async () => {
    // --port 0: the relay takes a free port and prints its URL (no race for a port).
    const cli = spawnNode([BIN, 'signal', '--host', '127.0.0.1', '--port', '0', '--max-peers', '2']);
    const { child, exited } = cli;
    try {
      const url = await cli.waitForOutput((out) => /listening on (ws:\/\/\S+)/.exec(out)?.[1], 'the CLI to print its URL');
      expect(await (await fetch(httpUrl(url, '/health'))).json()).toEqual({ ok: true });
      // The flag reached the relay: a third peer does not fit.
      const clients = [await RelayTestClient.open(url), await RelayTestClient.open(url), await RelayTestClient.open(url)];
      await clients[0]!.join('r');
      await clients[1]!.join('r');
      expect(await clients[2]!.join('r')).toMatchObject({ code: 'room-full' });
      child.kill('SIGTERM');
      expect((await clients[0]!.closed).code).toBe(1001);
      expect(await exited).toBe(0);
      const events = cli.stderr().trim().split('\n').map((l) => JSON.parse(l).event);
      expect(events[0]).toBe('start');
      expect(events.at(-1)).toBe('stop');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('CLI: every limit has a flag (--strike-window-ms reaches strikeWindowMs), and an empty --secret is refused', async () => {
    const run = async (...flags: string[]) => {
      const cli = spawnNode([BIN, 'signal', '--host', '127.0.0.1', '--port', '0', ...flags]);
      try {
        return { code: await cli.exited, stderr: cli.stderr() };
      } finally {
        cli.child.kill('SIGKILL');
      }
    };
    const window = await run('--strike-window-ms', '0');
    expect(window.code).toBe(1);
    expect(window.stderr).toMatch(/strikeWindowMs must be a positive number, got 0/);
    const secret = await run('--secret', '');
    expect(secret.code).toBe(1);
    expect(secret.stderr).toMatch(/secret must not be empty/);
  });

  it('CLI: an empty number (a flag or PORT from an unset variable) is refused, not read as 0', async () => {
    const run = async (args: string[], env: NodeJS.ProcessEnv = process.env) => {
      const cli = spawnNode([BIN, 'signal', '--host', '127.0.0.1', ...args], { env });
      // Without the fix the relay starts (on a random port, or with resuming off): stop it.
      void cli.waitForOutput((out) => (out.includes('listening on') ? true : undefined), 'a start').then(() => cli.child.kill('SIGKILL'), () => {});
      try {
        return { code: await cli.exited, stderr: cli.stderr() };
      } finally {
        cli.child.kill('SIGKILL');
      }
    };
    const grace = await run(['--port', '0', '--resume-grace-ms', '']);
    expect(grace.code).toBe(1);
    expect(grace.stderr).toMatch(/--resume-grace-ms must be a non-negative number, got ""/);
    const port = await run([], { ...process.env, PORT: ' ' });
    expect(port.code).toBe(1);
    expect(port.stderr).toMatch(/--PORT must be a non-negative number/);
  });

  it('CLI: `meshparty token` prints a token the relay accepts', async () => {
    const child = spawn(process.execPath, [BIN, 'token', '--secret', 's3', '--room', 'lobby', '--ttl', '120'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    expect(await new Promise((res) => child.on('exit', res))).toBe(0);
    const token = out.trim();
    expect(verifyRoomToken({ secret: 's3', room: 'lobby', token })).toBeNull();
    const payload = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(payload.room).toBe('lobby');
    expect(Math.abs(payload.exp - (Date.now() / 1000 + 120))).toBeLessThan(30);
    expect(verifyRoomToken({ secret: 'other', room: 'lobby', token })).toBe('token-invalid');
  });
});
