/**
 * `npm start`: the relay and the demos' Vite dev server in one process, with both URLs
 * printed. The relay takes RELAY_PORT / PORT or 4444, or any free port when that one is
 * taken; the dev server takes DEMO_PORT (0 = any free port) or Vite's default. Demo pages learn the relay URL two ways (see README "Relay"): the `?relay=`
 * query parameter of the printed links, and `import.meta.env.VITE_MESHPARTY_RELAY`.
 */
import { resolve } from 'node:path';
import { createServer as createViteServer } from 'vite';
import { createSignalingServer, type SignalingServer } from '../signaling/index.js';
import { keepRunningWhenOutputCloses } from '../src/util/closed-output.js';

const repo = resolve(import.meta.dirname, '..');

async function startRelay(): Promise<SignalingServer> {
  const wanted = Number(process.env.RELAY_PORT ?? process.env.PORT ?? 4444);
  const host = process.env.RELAY_HOST ?? '127.0.0.1';
  try {
    return await createSignalingServer({ host, port: wanted });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    console.log(`port ${wanted} is taken; the relay takes a free one`);
    return createSignalingServer({ host, port: 0 });
  }
}

async function main(): Promise<void> {
  // The printed URLs are courtesy: a closed stdout (`| head`, a supervisor) must not end the servers.
  keepRunningWhenOutputCloses();
  const relay = await startRelay();
  // Vite exposes VITE_* variables to pages as import.meta.env.*; set before the server loads.
  process.env.VITE_MESHPARTY_RELAY = relay.address.url;
  // DEMO_PORT picks the dev server's port (tests pass a free one); else Vite's default,
  // moving up when taken.
  const demoPort = process.env.DEMO_PORT ? Number(process.env.DEMO_PORT) : undefined;
  const vite = await createViteServer({
    configFile: resolve(repo, 'vite.config.ts'),
    ...(demoPort !== undefined ? { server: { port: demoPort, strictPort: true } } : {}),
  });
  // Vite installs its own SIGTERM (and stdin end) handler that exits once Vite alone has
  // closed, with code 143. This script owns the process: it closes both servers, then exits 0.
  process.removeAllListeners('SIGTERM');
  process.stdin.removeAllListeners('end');
  await vite.listen();
  const pageBase = vite.resolvedUrls?.local[0] ?? `http://127.0.0.1:${vite.config.server.port}/`;
  const q = `?relay=${encodeURIComponent(relay.address.url)}`;
  const httpBase = relay.address.url.replace(/^ws:/, 'http:');
  console.log(
    [
      '',
      `  relay   ${relay.address.url}   (health ${httpBase}/health, metrics ${httpBase}/metrics)`,
      `  demos   ${pageBase}${q}`,
      `          editor ${pageBase}editor/${q}`,
      `          game   ${pageBase}game/${q}`,
      `          chat   ${pageBase}chat/${q}`,
      `          video  ${pageBase}video/${q}`,
      '',
      '  Ctrl+C stops both.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled([vite.close(), relay.close()]);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
