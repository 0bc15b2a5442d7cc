import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './net.js';

/** A Node child process whose stdout and stderr are collected for the test to read. */
export interface CapturedProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code when the process ends. */
  readonly exited: Promise<number | null>;
  /**
   * Poll `match` over stdout until it returns a value; fails at once (with stderr) if the
   * process exits first, or after `timeoutMs`.
   */
  waitForOutput<T>(match: (stdout: string) => T | undefined | false, what: string, timeoutMs?: number): Promise<T>;
}

/** Run `node ...args` with piped output, for tests of CLIs and scripts. */
export function spawnNode(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CapturedProcess {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res((exitCode = code))));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForOutput: async <T,>(match: (stdout: string) => T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> =>
      (await waitFor(
        () => {
          if (exitCode !== undefined) throw new Error(`process exited with ${exitCode} while waiting for ${what}: ${stderr}`);
          return match(stdout);
        },
        what,
        timeoutMs,
        50,
      )) as T,
  };
}
