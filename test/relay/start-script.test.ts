import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../support/net.js';

const root = resolve(import.meta.dirname, '../..');

describe('npm start (scripts/start.ts)', () => {
  it('serves the landing page and the relay, prints both URLs, and stops on SIGTERM', async () => {
    const [relayPort, demoPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: root,
      env: { ...process.env, RELAY_PORT: String(relayPort), DEMO_PORT: String(demoPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', () => {});
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    try {
      await waitFor(() => stdout.includes('Ctrl+C'), 'start.ts to print its URLs', 60_000, 100);
      const relayUrl = `ws://127.0.0.1:${relayPort}`;
      expect(stdout).toContain(`relay   ${relayUrl}`);
      expect(stdout).toContain(`http://127.0.0.1:${demoPort}/?relay=${encodeURIComponent(relayUrl)}`);

      const page = await fetch(`http://127.0.0.1:${demoPort}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<title>meshparty demos</title>');
      for (const demo of ['editor/', 'game/', 'chat/']) expect(html).toContain(`href="${demo}"`);
      expect(await (await fetch(`http://127.0.0.1:${relayPort}/health`)).json()).toEqual({ ok: true });

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
