/**
 * The Node WebRTC engines the real-WebRTC tests run on: `@roamhq/wrtc` (libwebrtc) and
 * node-datachannel (libdatachannel, through meshparty's `adaptNodeDatachannel`). Each is
 * loaded only when asked for, so a process runs on exactly one native library.
 * Child processes pick theirs from the `WEBRTC` environment variable.
 */
import { loadNodeWebRtc, type NodeWebRtcEngine } from '../../src/transport/node-webrtc.js';
import type { WebRtcImplementation } from '../../src/transport/simple-peer.js';

export type { NodeWebRtcEngine };

/** Every engine, in the order the tests run them. */
export const NODE_WEBRTC_ENGINES: readonly NodeWebRtcEngine[] = ['wrtc', 'node-datachannel'];

/** The engine named by `value` (e.g. `process.env.WEBRTC`); `fallback` when unset; throws on anything else. */
export function parseEngine(value: string | undefined, fallback: NodeWebRtcEngine = 'wrtc'): NodeWebRtcEngine {
  if (value === undefined || value === '') return fallback;
  if (value === 'wrtc' || value === 'node-datachannel') return value;
  throw new Error(`WEBRTC must be wrtc or node-datachannel, got ${JSON.stringify(value)}`);
}

/** The WebRTC implementation to inject (`wrtc` option) for `engine`. */
export async function nodeWebRtc(engine: NodeWebRtcEngine): Promise<WebRtcImplementation> {
  return (await loadNodeWebRtc(engine)).wrtc;
}

