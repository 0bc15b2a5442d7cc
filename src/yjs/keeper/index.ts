/**
 * The keeper peer (Node only: it uses the file system). Import from here in a Node app;
 * browser code never imports this module.
 */
export { createKeeper } from './keeper.js';
export type { Keeper, KeeperEvents, KeeperOptions } from './keeper.js';
export { UpdateLog } from './update-log.js';
export type { UpdateLogOptions, FsyncPolicy } from './update-log.js';
