/**
 * simple-peer for Node (and any runtime that is not a browser bundle): its normal
 * CommonJS entry, used with an injected WebRTC (node-datachannel or `@roamhq/wrtc`).
 *
 * Import simple-peer ONLY through `#simple-peer` (package.json `imports`), never by its
 * package name: that mapping swaps in `simple-peer-import.browser.ts` under the
 * `browser` condition, which is what makes meshparty work in a Vite (or any bundler)
 * page without the user adding Node polyfills.
 */
import SimplePeer from 'simple-peer';

export default SimplePeer;
