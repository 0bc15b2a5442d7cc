import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';

const demo = (page: string) => resolve(import.meta.dirname, 'demos', page);

// One config for the demos' dev server (root: demos/) and for vitest (test/).
export default defineConfig({
  root: resolve(import.meta.dirname, 'demos'),
  server: { host: '127.0.0.1' },
  build: {
    outDir: resolve(import.meta.dirname, 'dist/demos'),
    emptyOutDir: true,
    // Phaser alone is ~1.4 MB minified; the game page is one chunk on purpose.
    chunkSizeWarningLimit: 1600,
    // Every demo is its own page; list them so `vite build` builds all of them.
    rolldownOptions: {
      input: {
        index: demo('index.html'),
        chat: demo('chat/index.html'),
        editor: demo('editor/index.html'),
        game: demo('game/index.html'),
        video: demo('video/index.html'),
      },
    },
  },
  test: {
    root: import.meta.dirname,
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    pool: 'forks',
    // Two cores: real-WebRTC and browser tests are CPU-bound; more workers only add jitter.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
