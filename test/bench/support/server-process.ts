/**
 * Start a server as a separate Node process for a benchmark, wait until it listens,
 * and stop it for sure afterwards. Each server in its own process means its memory
 * and CPU are its own, and a benchmark can compare servers that cannot share a process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { freePort } from '../../support/net.js';

/**
 * Node flags that make a server which listens on a bare port bind 127.0.0.1 instead of
 * every interface, without changing its code (see listen-on-loopback.cjs). For
 * third-party servers run unchanged, such as y-webrtc's `bin/server.js`.
 */
export const LOOPBACK_ONLY_ARGS: readonly string[] = ['--require', resolve(import.meta.dirname, 'listen-on-loopback.cjs')];

export interface ServerProcessOptions {
  /** For messages only, e.g. `y-webrtc bin/server.js`. */
  name: string;
  /** Script and its arguments, run as `node [...execArgv] ...args`. */
  args: string[];
  execArgv?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** The port it will listen on; omit when `readyLine` reports it. */
  port?: number;
  /**
   * Called with each stdout line; returns true (port given) or the port number once
   * the server says it is listening.
   */
  readyLine: (line: string) => boolean | number;
  /** Give up after this long. */
  timeoutMs?: number;
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawn the server and resolve once it printed its ready line and accepts TCP on 127.0.0.1. */
export async function startServerProcess(o: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(o.execArgv ?? []), ...o.args], {
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  // If this process ends without stop() (a watchdog's process.exit, a crash), take the
  // server with it: children are not killed with their parent otherwise.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  const stop = (graceMs = 3000): Promise<void> =>
    new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(kill);
        done();
      });
      child.kill('SIGTERM');
    });

  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(
        () => reject(new Error(`${o.name}: not ready after ${o.timeoutMs ?? 20_000} ms\n${stderr}`)),
        o.timeoutMs ?? 20_000,
      );
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`${o.name} exited (${code ?? sig}) before it was ready\n${stderr}`));
      });
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const r = o.readyLine(line);
          const p = typeof r === 'number' ? r : r ? o.port : undefined;
          if (p !== undefined) {
            clearTimeout(timer);
            resolve(p);
          }
        }
      });
    });
    child.stdout?.resume();
    await waitForTcp(port, 5000);
    if (child.pid === undefined) throw new Error(`${o.name}: no pid`);
    return { name: o.name, pid: child.pid, port, child, stop };
  } catch (err) {
    await stop(500);
    throw err;
  }
}

/** Resolve once 127.0.0.1:`port` accepts a TCP connection. */
export async function waitForTcp(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`127.0.0.1:${port} not accepting after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * y-webrtc 10.3.0's own signaling server (`node_modules/y-webrtc/bin/server.js`), run
 * unchanged in its own process on 127.0.0.1: the baseline of the relay, formation and
 * Yjs benchmarks and of the interop parity test. `extraExecArgv` adds Node flags (e.g.
 * GC_ON_SIGNAL_ARGS for memory readings).
 */
export async function startYWebrtcServer(root: string, extraExecArgv: readonly string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  return startServerProcess({
    name: 'y-webrtc bin/server.js',
    cwd: root,
    execArgv: [...extraExecArgv, ...LOOPBACK_ONLY_ARGS],
    args: [resolve(root, 'node_modules/y-webrtc/bin/server.js')],
    env: { PORT: String(port) },
    port,
    readyLine: (line) => line.includes('Signaling server running'),
  });
}

/**
 * Start meshparty's relay (`meshparty-relay-main.ts`) in its own process with
 * `relayOptions` (JSON, passed to `createSignalingServer`) and wait until it listens.
 * `extraExecArgv` adds Node flags, as for {@link startYWebrtcServer}; with `redisUrl` it is one
 * instance of a relay cluster on that Redis.
 */
export async function startMeshpartyRelay(root: string, relayOptions: object, extraExecArgv: readonly string[] = [], redisUrl?: string): Promise<ServerProcess> {
  return startServerProcess({
    name: redisUrl ? 'meshparty relay (cluster instance)' : 'meshparty relay',
    cwd: root,
    execArgv: [...extraExecArgv, '--import', 'tsx'],
    args: [resolve(import.meta.dirname, 'meshparty-relay-main.ts')],
    env: { MESHPARTY_RELAY_OPTIONS: JSON.stringify(relayOptions), ...(redisUrl ? { MESHPARTY_RELAY_REDIS: redisUrl } : {}) },
    readyLine: (line) => {
      try {
        const m = JSON.parse(line) as { event?: string; port?: number };
        return m.event === 'listening' && typeof m.port === 'number' ? m.port : false;
      } catch {
        return false;
      }
    },
  });
}
