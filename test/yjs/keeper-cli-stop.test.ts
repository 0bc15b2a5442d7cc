/**
 * `meshparty keeper` stopped by a signal while it is still starting: against a relay that
 * never answers one room's join, SIGTERM ends it within seconds (not after the ~50 s the
 * join would try for), with code 0, its lock released and the stored data intact. And a
 * second signal ends a process whose close hangs at once.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignalingServer, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { waitFor } from '../support/net.js';
import { type CapturedProcess, spawnNode } from '../support/node-process.js';
import { readKeeperDir, seedKeeperDir } from './support/keeper-dir.js';

const root = resolve(import.meta.dirname, '../..');

/** Resolves with the exit code, or 'still running' after `ms` (a bound with slack for a loaded machine). */
const exitWithin = (p: CapturedProcess, ms: number) =>
  Promise.race([p.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms).unref())]);

/**
 * A relay address whose first connection is passed to the real relay and every later one
 * is accepted and never answered: with `--room a --room b` the keeper joins room a, then
 * hangs joining room b (connect timeouts and retries, ~50 s).
 */
function firstConnectionOnly(relay: SignalingServer): Promise<{ server: Server; url: string; unanswered: Socket[]; sockets: Socket[] }> {
  const unanswered: Socket[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => {});
    sockets.push(socket);
    if (sockets.length > 1) return void unanswered.push(socket);
    const upstream = createConnection(relay.address.port, '127.0.0.1');
    sockets.push(upstream);
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, unanswered, sockets, url: `ws://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

describe('keeper CLI process: a signal while it starts', () => {
  let relay: SignalingServer;
  let silent: Awaited<ReturnType<typeof firstConnectionOnly>>;
  const dirs: string[] = [];
  const processes: CapturedProcess[] = [];
  beforeAll(async () => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    silent = await firstConnectionOnly(relay);
  });
  afterAll(async () => {
    for (const p of processes) p.child.kill('SIGKILL');
    silent?.sockets.forEach((s) => s.destroy());
    await new Promise((r) => silent?.server.close(r));
    await relay?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('SIGTERM while a room is still being joined: exits 0 within seconds, the lock is released, the stored data intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-cli-stop-'));
    dirs.push(dir);
    const stored = { a: { notes: 'first run' }, b: { other: 'kept in b' } };
    await seedKeeperDir(dir, stored);
    const keeper = spawnNode(['bin/meshparty.js', 'keeper', '--relay', silent.url, '--room', 'a', '--room', 'b', '--dir', dir], { cwd: root });
    processes.push(keeper);
    await keeper.waitForOutput((out) => out.includes('room a: keeping "notes"'), 'the keeper joined room a and loaded its document', 30_000);
    await waitFor(() => silent.unanswered.length > 0, 'the keeper is joining room b through the relay that never answers');

    const sentAt = Date.now();
    keeper.child.kill('SIGTERM');
    const code = await exitWithin(keeper, 8000);
    expect(code, `stdout: ${keeper.stdout()}\nstderr: ${keeper.stderr()}`).toBe(0);
    console.log(`keeper stopped while starting: exited ${Date.now() - sentAt} ms after SIGTERM`);
    expect(keeper.stdout()).toContain('SIGTERM: stopped before it was up (keeper startup aborted after joining 1 of 2 rooms)');
    expect(existsSync(join(dir, 'keeper.lock')), 'the lock is released').toBe(false);
    expect(await readKeeperDir(dir, ['a', 'b']), 'a new keeper starts on the directory and loads all of it').toEqual(stored);
  }, 60_000);

  it('a second signal ends a process whose close hangs at once', async () => {
    const child = spawnNode(['--import', 'tsx', 'test/yjs/support/stop-signals-child.ts'], { cwd: root });
    processes.push(child);
    await child.waitForOutput((out) => out.includes('ready'), 'the child listens for signals', 30_000);
    child.child.kill('SIGTERM');
    await child.waitForOutput((out) => out.includes('closing after SIGTERM'), 'the first signal starts the close', 10_000);
    expect(await exitWithin(child, 1000), 'the first signal does not end it').toBe('still running');
    child.child.kill('SIGINT');
    expect(await exitWithin(child, 5000)).toBeNull(); // ended by the signal: no exit code
    expect(child.child.signalCode).toBe('SIGINT');
  }, 60_000);
});
