/**
 * Servers the browser tests need, each on 127.0.0.1 and a port the OS picks: our relay,
 * and the demos served by Vite, either from source (dev server, with dependency
 * pre-bundling) or as a production build (`vite build` then `vite preview`).
 *
 * Both Vite paths use `configFile: false` and only `root`/`input`: no plugins, no
 * polyfills, no aliases. That is the point: a user's plain Vite setup must be enough
 * for meshparty (see src/transport/simple-peer-import.browser.ts).
 */
import { resolve } from 'node:path';
import { build, createServer, preview, type InlineConfig } from 'vite';
import { createSignalingServer, silentLogger, type RelayLimits, type SignalingServer } from '../../../signaling/index.js';

export const demosRoot = resolve(import.meta.dirname, '../../../demos');

/** A base URL (ending in `/`) and how to stop what serves it. */
export interface Served {
  url: string;
  close(): Promise<void>;
}

const plain = (extra: InlineConfig): InlineConfig => ({
  configFile: false,
  root: demosRoot,
  logLevel: 'warn',
  ...extra,
});

/** Our relay; `port` 0 (the default) lets the OS pick, a given one restarts a relay in place. */
export function startRelay(port = 0, limits: Partial<RelayLimits> = {}): Promise<SignalingServer> {
  return createSignalingServer({ host: '127.0.0.1', port, logger: silentLogger, ...limits });
}

/** The demos from source through Vite's dev server. */
export async function startDevServer(): Promise<Served> {
  const server = await createServer(plain({ server: { host: '127.0.0.1', port: 0, hmr: false } }));
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite dev server has no local URL');
  return { url, close: () => server.close() };
}

/** `vite build` of the given pages (paths relative to demos/) into `outDir`. */
export async function buildDemos(outDir: string, pages: string[]): Promise<void> {
  await build(
    plain({
      build: {
        outDir,
        emptyOutDir: true,
        rolldownOptions: { input: Object.fromEntries(pages.map((p) => [p.replace(/\W+/g, '_'), resolve(demosRoot, p)])) },
      },
    }),
  );
}

/** Serve a build output with `vite preview`. */
export async function startPreview(outDir: string): Promise<Served> {
  const server = await preview(plain({ build: { outDir }, preview: { host: '127.0.0.1', port: 0 } }));
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview has no local URL');
  return { url, close: () => server.close() };
}
