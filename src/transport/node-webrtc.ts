/**
 * Loading a Node WebRTC by name, for Node entry points (the keeper CLI) that pick one at
 * run time. Library code never calls this: the WebRTC is injected (`wrtc` option).
 */
import { MeshpartyError } from '../util/errors.js';
import type { WebRtcImplementation } from './simple-peer.js';

/** A WebRTC implementation for Node: @roamhq/wrtc, or node-datachannel through its adapter. */
export type NodeWebRtcEngine = 'wrtc' | 'node-datachannel';

/** Imports a module by name (`(name) => import(name)`); a parameter so tests can make one fail to load. */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

/** The package each engine is loaded from. */
const ENGINE_MODULES: Record<NodeWebRtcEngine, string> = { 'node-datachannel': 'node-datachannel/polyfill', wrtc: '@roamhq/wrtc' };

/**
 * Load a Node WebRTC: `engine`, or without one @roamhq/wrtc if it loads, else
 * node-datachannel. wrtc comes first for long-running peers: it connected every pair in
 * every test here, while node-datachannel, whose sends are far cheaper (see
 * `adaptNodeDatachannel`), now and then needs a second or a retry to connect. Both are
 * optional dependencies, so either may be missing; when none can be loaded this rejects
 * with a `webrtc-unsupported` MeshpartyError naming what failed and why.
 *
 * @example
 * ```ts
 * const { engine, wrtc } = await loadNodeWebRtc(undefined); // engine: 'wrtc'
 * ```
 */
export async function loadNodeWebRtc(
  engine: NodeWebRtcEngine | undefined,
  load: ModuleLoader = (specifier) => import(specifier),
): Promise<{ engine: NodeWebRtcEngine; wrtc: WebRtcImplementation }> {
  const tried: NodeWebRtcEngine[] = engine ? [engine] : ['wrtc', 'node-datachannel'];
  const failures: string[] = [];
  for (const candidate of tried) {
    try {
      const module = await load(ENGINE_MODULES[candidate]);
      if (candidate === 'wrtc') {
        const wrtc = ((module as { default?: unknown }).default ?? module) as WebRtcImplementation;
        if (typeof wrtc?.RTCPeerConnection !== 'function') throw new Error('it has no RTCPeerConnection');
        return { engine: candidate, wrtc };
      }
      const { adaptNodeDatachannel } = await import('./node-datachannel.js');
      return { engine: candidate, wrtc: adaptNodeDatachannel(module as Parameters<typeof adaptNodeDatachannel>[0]) };
    } catch (err) {
      failures.push(`${ENGINE_MODULES[candidate]}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  throw new MeshpartyError(
    'webrtc-unsupported',
    `no WebRTC for Node could be loaded (${failures.join('; ')}); install @roamhq/wrtc (or node-datachannel)`,
    { tried: tried.map((e) => ENGINE_MODULES[e]) },
  );
}
