/**
 * A forked TypeScript child (run through tsx) that reports events over IPC and takes
 * commands the same way: event-driven waits on what it reported, and a stop that never
 * leaves an orphan. The Yjs and y-webrtc peer processes are thin wrappers over this.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** Something the child reported; `{ event: 'error', message }` makes every wait fail. */
export type ChildEvent = { event: string; [key: string]: unknown };

export interface IpcChild<E extends ChildEvent> {
  readonly name: string;
  /** Every event received so far, oldest first. */
  readonly events: E[];
  /** Send a command if the child is still connected. */
  send(command: object): void;
  /** Resolves with the first event at index >= `from` that matches; rejects on timeout, exit or an `error` event. */
  waitFor(match: (e: E) => boolean, what: string, timeoutMs?: number, from?: number): Promise<E>;
  /** Send `command` and wait for the next event named `reply`. */
  request(command: object, reply: string, timeoutMs?: number): Promise<E>;
  /** Ask it to exit (`{ cmd: 'exit' }`); SIGKILL if it has not after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Tails of its events, stdout and stderr, for failure messages. */
  diagnostics(): string;
}

/** Fork `script` with `env` added to this process's environment. */
export function forkIpcChild<E extends ChildEvent>(name: string, script: string, env: Record<string, string>, defaultTimeoutMs = 30_000): IpcChild<E> {
  const child: ChildProcess = fork(script, [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const events: E[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  let out = '';
  let exited: string | undefined;
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  child.on('message', (m: E) => {
    events.push(m);
    wake();
  });
  child.on('exit', (code, signal) => {
    exited = `exited (${code ?? signal})`;
    wake();
  });
  const diagnostics = () =>
    `\n-- ${name} events: ${JSON.stringify(events).slice(-1500)}\n-- ${name} stdout:\n${out}\n-- ${name} stderr:\n${err}`;

  const waitFor: IpcChild<E>['waitFor'] = (match, what, timeoutMs = defaultTimeoutMs, from = 0) =>
    new Promise((resolveWait, reject) => {
      const check = () => {
        const rest = events.slice(from);
        const hit = rest.find(match);
        const failed = rest.find((e) => e.event === 'error');
        if (hit) finish(() => resolveWait(hit));
        else if (failed) finish(() => reject(new Error(`${name} failed: ${String(failed.message)}`)));
        else if (exited) finish(() => reject(new Error(`${name} ${exited} while waiting for ${what}${diagnostics()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${name}: timed out after ${timeoutMs} ms waiting for ${what}${diagnostics()}`))), timeoutMs);
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        fn();
      };
      waiters.add(check);
      check();
    });

  return {
    name,
    events,
    send: (command) => {
      if (child.connected) child.send(command);
    },
    waitFor,
    request(command, reply, timeoutMs) {
      const from = events.length;
      child.send(command);
      return waitFor((e) => e.event === reply, reply, timeoutMs, from);
    },
    diagnostics,
    stop: (graceMs = 3000) =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        if (child.connected) child.send({ cmd: 'exit' });
        else child.kill('SIGTERM');
      }),
  };
}
