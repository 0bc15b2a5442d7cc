/**
 * Camera, microphone and screen streams over a room's mesh, and a tile layout helper
 * (browser, and Node with @roamhq/wrtc).
 */
export { createMediaShare } from './media-share.js';
export type { MediaShare, MediaShareEvents, MediaShareOptions, MutedKinds, PublishOptions, RemoteMediaStream, ViewSize } from './media-share.js';
export { layoutTiles } from './tile-layout.js';
export type { Tile, TileLayout, TileLayoutOptions } from './tile-layout.js';
