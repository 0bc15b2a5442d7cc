/**
 * meshparty's public API. Each layer appends its own export block below.
 */

// --- lockstep (real-time games) ---
export * from './lockstep/index.js';

// --- yjs (co-editing) ---
export { createYjsProvider, MeshpartyProvider } from './yjs/index.js';
export type { YjsProviderOptions, YjsProviderEvents, YjsProviderStatus, YjsLimits } from './yjs/index.js';
