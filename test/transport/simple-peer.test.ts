/**
 * The WebRTC transport over real pairs in this process on @roamhq/wrtc (node-datachannel
 * runs the same suite from simple-peer-node-datachannel.test.ts, in a process of its own),
 * and simple-peer's error mapping and signal checks.
 */
import { describe, expect, it } from 'vitest';
import { fromSimplePeerError, signalProblem } from '../../src/transport/simple-peer-errors.js';
import { MeshpartyError } from '../../src/util/errors.js';
import { nodeWebRtc } from '../support/node-webrtc.js';
import { simplePeerSuite } from './support/simple-peer-suite.js';

simplePeerSuite('wrtc', await nodeWebRtc('wrtc'));

describe('simple-peer error mapping and signal checks', () => {
  it('maps simple-peer codes to stable meshparty codes and keeps the original', () => {
    const e = fromSimplePeerError(Object.assign(new Error('Ice connection failed.'), { code: 'ERR_ICE_CONNECTION_FAILURE' }));
    expect(e).toBeInstanceOf(MeshpartyError);
    expect(e.code).toBe('ice-failed');
    expect(e.detail).toEqual({ cause: 'ERR_ICE_CONNECTION_FAILURE' });
    expect(fromSimplePeerError(Object.assign(new Error('x'), { code: 'ERR_CONNECTION_FAILURE' })).code).toBe('connection-failed');
    expect(fromSimplePeerError(new Error('no code')).code).toBe('transport-failed');
    const own = new MeshpartyError('mine', 'kept');
    expect(fromSimplePeerError(own)).toBe(own);
  });

  it('accepts the signals simple-peer emits and names what is wrong with others', () => {
    expect(signalProblem({ type: 'offer', sdp: 'v=0\r\n' })).toBeUndefined();
    expect(signalProblem({ type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMLineIndex: 0, sdpMid: '0' } })).toBeUndefined();
    expect(signalProblem({ type: 'renegotiate', renegotiate: true })).toBeUndefined();
    expect(signalProblem({ type: 'offer', sdp: 'x'.repeat(300 * 1024) })).toBe('sdp missing or too long');
    // A remote's description with thousands of candidate lines (80 KB): node-datachannel
    // spent 2 s of CPU retrying them (the event loop stalled 119 ms at a time); at most 64, as in a batch.
    const lines = (n: number) => 'v=0\r\na=mid:0\r\n' + 'a=candidate:1 1 udp 1 192.0.2.1 9 typ host\r\n'.repeat(n);
    expect(signalProblem({ type: 'offer', sdp: lines(64) })).toBeUndefined();
    expect(signalProblem({ type: 'answer', sdp: lines(65) })).toBe('too many candidates in the sdp');
    expect(signalProblem('{"type":"offer"}')).toBe('not an object');
    expect(signalProblem({})).toBe('neither a description nor a candidate');
  });
});
