/**
 * simple-peer for browser bundles, selected by the `browser` condition of
 * `#simple-peer` in package.json `imports`.
 *
 * Why the prebuilt bundle: simple-peer's CommonJS entry needs Node's `process`,
 * `Buffer`, `global`, `events` and `readable-stream`, which Vite (and most modern
 * bundlers) no longer polyfill. `simplepeer.min.js` is simple-peer's own browserify
 * build with those shims inside, so a page works with a plain Vite config, in dev
 * (dependency pre-bundling) and in `vite build` alike. Checked by test/e2e.
 */
import SimplePeer from 'simple-peer/simplepeer.min.js';

export default SimplePeer;
