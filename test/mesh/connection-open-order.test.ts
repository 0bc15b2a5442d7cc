import { describe, expect, it } from 'vitest';
import { Connection, type ConnectionHooks } from '../../src/mesh/connection.js';
import { encodeMsg } from '../../src/mesh/frame.js';
import type { PeerTransport, PeerTransportEvents } from '../../src/transport/types.js';
import { Emitter } from '../../src/util/emitter.js';
import { ManualClock } from '../../src/util/clock.js';

/** A transport whose events the test fires by hand, to order `frame` before `open`. */
function handTransport() {
  const events = new Emitter<PeerTransportEvents>();
  const transport: PeerTransport = {
    remoteId: 'remote',
    initiator: false,
    maxMessageSize: 16 * 1024,
    lowWaterMark: 0,
    signal: () => {},
    send: () => {},
    bufferedAmount: () => 0,
    on: (e, l) => events.on(e, l),
    destroy: () => {},
  };
  return { transport, events };
}

function recordingHooks(log: string[]): ConnectionHooks {
  return {
    onSignal: () => {},
    onOpen: () => log.push('open'),
    onGone: () => log.push('gone'),
    onMessage: (_c, channel, _r, data) => log.push(`msg ${channel}:${new TextDecoder().decode(data)}`),
    onRtt: () => {},
    onBye: () => {},
    onBad: (_c, reason) => log.push(`bad ${reason}`),
    onTransportError: () => {},
  };
}

const options = { clock: new ManualClock(), maxMessageBytes: 1 << 20, maxQueuedBytes: 1 << 20 };

describe('Connection: frames that arrive before this side sees open', () => {
  it('are held and delivered after onOpen, in arrival order', () => {
    const { transport, events } = handTransport();
    const log: string[] = [];
    new Connection(transport, 's1', options, recordingHooks(log));
    events.emit('frame', { reliability: 'reliable', data: encodeMsg(7, new TextEncoder().encode('first')) });
    events.emit('frame', { reliability: 'unreliable', data: encodeMsg(7, new TextEncoder().encode('second')) });
    expect(log).toEqual([]);
    events.emit('open', undefined);
    expect(log).toEqual(['open', 'msg 7:first', 'msg 7:second']);
  });

  it('are bounded: a remote flooding before open is reported, not buffered without end', () => {
    const { transport, events } = handTransport();
    const log: string[] = [];
    new Connection(transport, 's1', options, recordingHooks(log));
    for (let i = 0; i < 300; i++) events.emit('frame', { reliability: 'reliable', data: encodeMsg(1, new Uint8Array(8)) });
    expect(log.filter((l) => l.startsWith('bad')).length).toBe(300 - 256);
    events.emit('open', undefined);
    expect(log.filter((l) => l.startsWith('msg')).length).toBe(256);
  });
});
