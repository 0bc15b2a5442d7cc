import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnNode } from '../support/node-process.js';

const root = resolve(import.meta.dirname, '../..');

describe('npm start (scripts/start.ts)', () => {
  it('serves the landing page and the relay, prints both URLs, and stops on SIGTERM', async () => {
    // Port 0 for both: each server takes a free port and the script prints where.
    const start = spawnNode(['--import', 'tsx', 'scripts/start.ts'], { cwd: root, env: { ...process.env, RELAY_PORT: '0', DEMO_PORT: '0' } });
    const { child, exited } = start;
    try {
      await start.waitForOutput((out) => out.includes('Ctrl+C'), 'start.ts to print its URLs');
      const stdout = start.stdout();
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
