/**
 * meshparty's public API. Each layer appends its own export block below.
 */

// --- lockstep (real-time games) ---
export * from './lockstep/index.js';

// --- yjs (co-editing) ---
export { createYjsProvider, MeshpartyProvider } from './yjs/index.js';
export type { YjsProviderOptions, YjsProviderEvents, YjsProviderStatus, YjsLimits } from './yjs/index.js';
export { createTabSync, TabSync } from './yjs/index.js';
export type { TabSyncOptions, TabSyncEvents, BroadcastChannelLike, BroadcastChannelConstructor, TabLocks } from './yjs/index.js';

// --- media (camera, mic and screen streams; video tiles) ---
export { createMediaShare, layoutTiles } from './media/index.js';
export type { MediaShare, MediaShareEvents, MediaShareOptions, MutedKinds, PublishOptions, RemoteMediaStream, Tile, TileLayout, TileLayoutOptions, ViewSize } from './media/index.js';

// --- mesh (rooms, channels, in-memory network for tests) ---
export { createMesh } from './mesh/create-mesh.js';
export type { MeshOptions } from './mesh/create-mesh.js';
export { createMemoryNetwork } from './mesh/memory-network.js';
export type { MemoryNetwork, MemoryNetworkOptions, MemoryJoinOptions } from './mesh/memory-network.js';
export type { LinkConditions } from './transport/memory.js';
export type { Room, RoomEvents, RoomStatus, Channel, ChannelEvents, ChannelMessage, PeerId, PeerInfo, Reliability } from './mesh/types.js';
export type { Logger } from './mesh/logger.js';
export { MeshpartyError } from './util/errors.js';
export { ManualClock, realClock } from './util/clock.js';
export type { Clock } from './util/clock.js';
export { createRng } from './util/rng.js';
export type { Rng } from './util/rng.js';

// --- joining over WebRTC (relay client + simple-peer transport) ---
export { joinRoom } from './mesh/join-room.js';
export type { JoinRoomOptions } from './mesh/join-room.js';
export { createWebSocketSignaling } from './signaling-client/websocket-signaling.js';
export type { WebSocketSignalingOptions, WebSocketConstructor, WebSocketLike } from './signaling-client/websocket-signaling.js';
export type { BackoffOptions } from './signaling-client/backoff.js';
export { createSimplePeerTransports } from './transport/simple-peer.js';
export type { SimplePeerTransportOptions, WebRtcImplementation } from './transport/simple-peer.js';
export { adaptNodeDatachannel } from './transport/node-datachannel.js';
export type { NodeDatachannelPolyfill } from './transport/node-datachannel.js';
