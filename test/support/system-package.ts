import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Make sure a Debian package's binary exists before a test needs it. As root the
 * package is installed with apt-get; otherwise the test fails with one line saying
 * what to install. Used for Chromium (browser tests) and redis-server.
 */
export function ensureDebianPackage(binary: string, pkg: string): string {
  if (existsSync(binary)) return binary;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(`${binary} is missing: install it with "sudo apt-get install -y ${pkg}"`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore', env });
  if (!existsSync(binary)) throw new Error(`apt-get installed ${pkg} but ${binary} is still missing`);
  return binary;
}
