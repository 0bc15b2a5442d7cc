import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../signaling/index.js';
import { freePort } from '../support/net.js';
import { spawnNode } from '../support/node-process.js';
import { RelayTestClient } from './client.js';

const BIN = resolve(import.meta.dirname, '../../bin/meshparty.js');

/** Three connections in a row, each answered: each one logs, so a relay that died of a failed write serves no later one. */
async function expectServesThree(url: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const client = await RelayTestClient.open(url);
    client.send({ type: 'ping' });
    expect(await client.nextOf('pong')).toEqual({ type: 'pong' });
    client.close();
  }
}

describe('relay log stream', () => {
  it('a log reader that went away (stderr pipe closed) does not end the relay', async () => {
    const cli = spawnNode([BIN, 'signal', '--host', '127.0.0.1', '--port', '0']);
    try {
      const url = await cli.waitForOutput((out) => /listening on (ws:\/\/\S+)/.exec(out)?.[1], 'the CLI to print its URL');
      cli.child.stderr!.destroy(); // every log line now fails with EPIPE, after write() returned
      await expectServesThree(url);
      expect(cli.child.exitCode).toBe(null);
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  it('a closed stdout (the URL line read by `| head -1`) does not end the relay', async () => {
    const port = await freePort();
    const cli = spawnNode([BIN, 'signal', '--host', '127.0.0.1', '--port', String(port)]);
    cli.child.stdout!.destroy(); // before the relay is up: its URL line fails with EPIPE
    try {
      await cli.waitForOutput(() => cli.stderr().includes('"event":"start"'), 'the relay to start');
      await expectServesThree(`ws://127.0.0.1:${port}`);
      expect(cli.child.exitCode).toBe(null);
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  it('a log reader that stalls holds at most the cap in memory; the dropped lines are counted', () => {
    const taken: string[] = [];
    let release: (() => void)[] = [];
    // A pipe nobody reads: writes are accepted and wait.
    const stalled = new Writable({
      write(chunk: Buffer, _enc, done) {
        taken.push(chunk.toString());
        release.push(done);
      },
    });
    const log = createJsonLogger(stalled, 64 * 1024);
    for (let i = 0; i < 10_000; i++) log({ level: 'info', event: 'connection-open', conn: `c${i}`, ip: '127.0.0.1' });
    expect(stalled.writableLength).toBeLessThan(64 * 1024 + 200);
    // The reader catches up: the next line is preceded by the count of those dropped.
    for (;;) {
      const pending = release;
      release = [];
      if (pending.length === 0) break;
      for (const done of pending) done();
    }
    const before = taken.length;
    log({ level: 'info', event: 'after' });
    for (const done of release) done();
    const after = taken.slice(before).map((l) => JSON.parse(l) as { event: string; count?: number });
    expect(after.map((l) => l.event)).toEqual(['log-lines-dropped', 'after']);
    expect(before + after[0]!.count!).toBe(10_000); // each of the 10 000 lines was written or counted
  });
});
