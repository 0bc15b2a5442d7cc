/**
 * The Yjs provider and the keeper over real WebRTC (@roamhq/wrtc) between real Node
 * processes, through meshparty's relay started here on 127.0.0.1.
 *
 * The editing trace is seph-blog1 by Joseph Gentle (editing-traces, CC BY 4.0), read
 * from ../shared/data/ beside the repository.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSignalingServer, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { waitFor } from '../support/net.js';
import { startPeerProcess, type PeerProcess } from './support/peer-process.js';
import { TRACE_PATH, loadTrace } from './support/trace.js';

const root = resolve(import.meta.dirname, '../..');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let relay: SignalingServer;
let url: string;
const running: PeerProcess[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];

function peer(name: string, room: string, doc?: string): PeerProcess {
  const p = startPeerProcess(name, { MODE: 'meshparty', RELAY: url, ROOM: room, ...(doc ? { DOC: doc } : {}) });
  running.push(p);
  return p;
}

beforeAll(async () => {
  relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
  url = relay.address.url;
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await relay.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('yjs over real WebRTC', () => {
  it('4 peers: one replays the real editing trace, every peer ends with exactly endContent', async () => {
    const { endContent } = loadTrace();
    const peers = [0, 1, 2, 3].map((i) => peer(`trace-${i}`, 'trace'));
    await Promise.all(peers.map((p) => p.waitFor((e) => e.event === 'peers' && e.count === 3, '3 peers')));
    await peers[0]!.request({ cmd: 'replay', path: TRACE_PATH }, 'replayed', 120_000);
    for (const p of peers) {
      await waitFor(async () => (await p.request({ cmd: 'hash' }, 'hash')).value === sha(endContent), `${p.name} reaches endContent`, 60_000, 200);
    }
    for (const p of peers) expect((await p.request({ cmd: 'text' }, 'text')).value).toBe(endContent);
    await Promise.all(peers.map((p) => p.stop()));
  }, 240_000);

  it('a late joiner receives a 20 MB document intact', async () => {
    const bytes = 20 * 1024 * 1024;
    const holder = peer('holder', 'big');
    await holder.waitFor((e) => e.event === 'ready', 'ready');
    await holder.request({ cmd: 'fill', bytes }, 'filled', 60_000);
    const joiner = peer('joiner', 'big');
    await joiner.waitFor((e) => e.event === 'ready', 'ready');
    await joiner.request({ cmd: 'expect', length: bytes }, 'reached', 120_000);
    const [a, b] = await Promise.all([holder.request({ cmd: 'hash' }, 'hash'), joiner.request({ cmd: 'hash' }, 'hash')]);
    expect(b.length).toBe(bytes);
    expect(b.value).toBe(a.value);
    await Promise.all([holder.stop(), joiner.stop()]);
  }, 240_000);

  it('the keeper keeps a document across its own (killed) restart and hands it to a peer that joins alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-keeper-rtc-'));
    dirs.push(dir);
    const startKeeper = () => {
      const child = spawn(process.execPath, ['bin/meshparty.js', 'keeper', '--relay', url, '--room', 'kept', '--dir', dir], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      return { child, output: () => out };
    };
    const keeper = startKeeper();
    await waitFor(() => keeper.output().includes('keeping kept'), 'keeper joined', 30_000);

    const alice = peer('alice', 'kept', 'notes');
    await alice.waitFor((e) => e.event === 'synced' && e.synced === true, 'alice synced with the keeper', 60_000);
    await alice.request({ cmd: 'fill', bytes: 5000 }, 'filled');
    const want = await alice.request({ cmd: 'hash' }, 'hash');
    // The keeper has it on disk once its log for "notes" holds more than the 5000 characters.
    const log = join(dir, Buffer.from('kept').toString('hex'), `${Buffer.from('notes').toString('hex')}.ylog`);
    await waitFor(() => {
      try {
        return statSync(log).size > 5000;
      } catch {
        return false;
      }
    }, 'the keeper stored the document', 30_000);
    keeper.child.kill('SIGKILL'); // a crash, not a clean shutdown: fsynced records must be enough
    await alice.stop();

    const keeper2 = startKeeper();
    await waitFor(() => keeper2.output().includes('keeping kept'), 'keeper restarted', 30_000);
    expect(keeper2.output()).toMatch(/keeping "notes"/);
    const bob = peer('bob', 'kept', 'notes');
    await bob.waitFor((e) => e.event === 'synced' && e.synced === true, 'bob synced with the keeper', 60_000);
    await waitFor(async () => (await bob.request({ cmd: 'hash' }, 'hash')).value === want.value, 'bob has the document', 30_000, 200);
    await bob.stop();
    keeper2.child.kill('SIGTERM');
    await waitFor(() => keeper2.child.exitCode !== null, 'keeper exits on SIGTERM', 10_000);
    expect(keeper2.child.exitCode).toBe(0);
  }, 240_000);
});
