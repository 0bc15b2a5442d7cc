/**
 * Parent side of `relay-process.ts`: start the relay as its own process on a given port,
 * SIGKILL it, start it again, read its `/metrics`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { RelayMetrics } from '../../../signaling/index.js';

export class RelayProcess {
  #child: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Start and resolve once it prints `listening`. */
  start(): Promise<void> {
    const script = resolve(import.meta.dirname, '../relay-process.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, String(this.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#child = child;
    return new Promise((done, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error('relay process did not start within 30 s')), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening')) {
          clearTimeout(timer);
          done();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`relay process exited early (${code})`));
      });
    });
  }

  /** SIGKILL: no close frames, the clients' sockets just die. */
  kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((done) => {
      child.once('exit', () => done());
      child.kill('SIGKILL');
    });
  }

  async metrics(): Promise<RelayMetrics> {
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return (await res.json()) as RelayMetrics;
  }
}
