/**
 * The WebRTC transport's suite (support/simple-peer-suite.ts) on node-datachannel, in a
 * test process of its own: see the suite's comment.
 */
import { nodeWebRtc } from '../support/node-webrtc.js';
import { simplePeerSuite } from './support/simple-peer-suite.js';

simplePeerSuite('node-datachannel', await nodeWebRtc('node-datachannel'));
