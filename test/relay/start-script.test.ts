import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';

const root = resolve(import.meta.dirname, '../..');

describe('npm start (scripts/start.ts)', () => {
  it('serves the landing page and the relay, prints both URLs, and stops on SIGTERM', async () => {
    // Port 0 for both: each server takes a free port and the script prints where.
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: root,
      env: { ...process.env, RELAY_PORT: '0', DEMO_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res((exitCode = code))));
    try {
      await waitFor(() => {
        if (exitCode !== undefined) throw new Error(`start.ts exited with ${exitCode}: ${stderr}`);
        return stdout.includes('Ctrl+C');
      }, 'start.ts to print its URLs', 60_000, 100);
      const relayUrl = /relay\s+(ws:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
      const demosUrl = /demos\s+(http:\/\/\S+\/)\?relay=(\S+)/.exec(stdout);
      expect(relayUrl).toBeDefined();
      expect(demosUrl?.[2]).toBe(encodeURIComponent(relayUrl!));

      const page = await fetch(demosUrl![1]!);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<title>meshparty demos</title>');
      for (const demo of ['editor/', 'game/', 'chat/']) expect(html).toContain(`href="${demo}"`);
      expect(await (await fetch(relayUrl!.replace('ws:', 'http:') + '/health')).json()).toEqual({ ok: true });

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
