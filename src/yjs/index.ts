/**
 * Co-editing with Yjs over the mesh (browser and Node). The keeper lives in
 * `./keeper/` and is Node-only, so it is not exported from here.
 */
export { createYjsProvider, MeshpartyProvider } from './provider.js';
export type { YjsProviderOptions, YjsProviderEvents, YjsProviderStatus } from './provider.js';
export type { YjsLimits } from './protocol.js';
export { createTabSync, TabSync } from './tab-sync.js';
export type { TabSyncOptions, TabSyncEvents, BroadcastChannelLike, BroadcastChannelConstructor } from './tab-sync.js';
export type { TabLocks } from './tab-locks.js';
