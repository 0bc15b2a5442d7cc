/**
 * A peer connection that cannot be created (a TURN server without credentials, an ICE URL
 * the engine cannot parse) is a `webrtc-unsupported` error for the caller, and nothing
 * more: simple-peer also emits the error a tick later, which must not become an uncaught
 * exception that ends the process.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSimplePeerTransports } from '../../src/transport/simple-peer.js';

const root = resolve(import.meta.dirname, '../..');

describe('a peer connection that cannot be created', () => {
  it('throws webrtc-unsupported and raises nothing afterwards (an engine whose constructor throws)', async () => {
    class ThrowingPeerConnection {
      constructor() {
        throw new TypeError('bad iceServers url');
      }
    }
    const wrtc = { RTCPeerConnection: ThrowingPeerConnection, RTCSessionDescription: class {}, RTCIceCandidate: class {} };
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const transports = createSimplePeerTransports({ wrtc, logger: { warn: () => {} } });
      expect(() => transports.create({ localId: 'a', remoteId: 'b', initiator: true })).toThrow(expect.objectContaining({ code: 'webrtc-unsupported' }));
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });

  it('refuses a lowWaterMark that is not a finite number of bytes, with bad-argument', () => {
    // NaN never compares above the mark: no drain, and a send queue whose high-water mark is NaN never waits.
    for (const lowWaterMark of [NaN, -1, Infinity]) {
      expect(() => createSimplePeerTransports({ lowWaterMark })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    }
    expect(() => createSimplePeerTransports({ lowWaterMark: 0 })).not.toThrow();
  });

  it('refuses an unreliableChannelId that is not a data channel stream id (0-65534), with bad-argument', () => {
    for (const unreliableChannelId of [NaN, 1.5, -1, 65535, 70_000]) {
      expect(() => createSimplePeerTransports({ unreliableChannelId })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    }
    expect(() => createSimplePeerTransports({ unreliableChannelId: 65534 })).not.toThrow();
  });

  it.each(['wrtc', 'node-datachannel'])('on %s: the caller catches it and the process keeps running (TURN without credentials)', (engine) => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/transport/support/bad-ice-child.ts'], {
      cwd: root,
      env: { ...process.env, WEBRTC: engine },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stdout).toContain('CAUGHT webrtc-unsupported');
    expect(child.stdout).toContain('STILL ALIVE');
    expect(child.status).toBe(0);
  });
});
