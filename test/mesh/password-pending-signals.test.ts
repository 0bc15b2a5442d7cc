/**
 * Password rooms: a signal is decrypted asynchronously (WebCrypto), so the room may have
 * changed by the time it can be read: our id (the relay gave us a new one), the sender
 * (it left the room, and its record was forgotten). Such a signal belongs to a room state
 * that is gone and must not make a connection nothing tracks. Decryption is held by the
 * test, so each race happens in a known order.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { shouldInitiate } from '../../src/mesh/glare.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { deriveSignalKey, sealSignal } from '../../src/mesh/signal-crypto.js';
import type { Signaling, SignalingEvents } from '../../src/signaling-client/types.js';
import type { PeerTransport, PeerTransportEvents, PeerTransportFactory } from '../../src/transport/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import { waitFor } from '../support/net.js';

/** A signaling driven by the test. */
function fakeSignaling() {
  const events = new Emitter<SignalingEvents>();
  const s: Signaling = {
    status: 'connected',
    join: () => {},
    sendSignal: () => {},
    on: (e, l) => events.on(e, l),
    close: () => {},
  };
  return { s, events };
}

/** Transports that only record what happens to them (no connection ever opens). */
function recordingTransports() {
  const made: Array<{ localId: string; remoteId: string; initiator: boolean; signals: unknown[]; destroyed: boolean }> = [];
  const factory: PeerTransportFactory = {
    create({ localId, remoteId, initiator }) {
      const rec = { localId, remoteId, initiator, signals: [] as unknown[], destroyed: false };
      made.push(rec);
      const events = new Emitter<PeerTransportEvents>();
      const t: PeerTransport = {
        remoteId,
        initiator,
        maxMessageSize: 65536,
        lowWaterMark: 65536,
        signal: (d) => void rec.signals.push(d),
        send: () => {
          throw new Error('not open');
        },
        bufferedAmount: () => 0,
        on: (e, l) => events.on(e, l),
        destroy: () => {
          if (rec.destroyed) return;
          rec.destroyed = true;
          events.emit('close', { reason: 'closed' });
        },
      };
      return t;
    },
  };
  return { factory, made, alive: () => made.filter((m) => !m.destroyed) };
}

/** Holds every WebCrypto decryption until `release()`. */
function holdDecryption() {
  const subtle = globalThis.crypto.subtle;
  const real = subtle.decrypt.bind(subtle);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started = 0;
  let finished = 0;
  vi.spyOn(subtle, 'decrypt').mockImplementation(async (...args: Parameters<SubtleCrypto['decrypt']>) => {
    started++;
    await gate;
    try {
      return await real(...args);
    } finally {
      finished++;
    }
  });
  return { release, started: () => started, finished: () => finished };
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** Room 'r' with password 'pw' as peer `self`, joined with `b` in the room. */
async function joinedWithB(self: string) {
  const f = fakeSignaling();
  const tr = recordingTransports();
  const clock = new ManualClock();
  const room = createMesh({ room: 'r', signaling: f.s, transports: tr.factory, password: 'pw', clock, logger: silentLogger() });
  f.events.emit('joined', { selfId: self, peers: ['b'] });
  const key = await deriveSignalKey('pw', 'r');
  return { f, tr, clock, room, key };
}

describe('password rooms: a signal whose room state changed while it was being decrypted', () => {
  it('an offer to our old id, read after the relay gave us a new one, makes no connection (none outlives leave())', async () => {
    // b offers to a1 (a1 only answers), and to a3 as well: a3 never creates a transport
    // for b unless told to by an offer.
    expect(shouldInitiate('b', 'a1')).toBe(true);
    expect(shouldInitiate('b', 'a3')).toBe(true);
    const { f, tr, clock, room, key } = await joinedWithB('a1');
    const hold = holdDecryption();
    f.events.emit('signal', { from: 'b', data: await sealSignal(key, 'b', 'a1', { s: 'old-session', d: { type: 'offer' } }) });
    await waitFor(() => hold.started() === 1, 'decryption started');
    // The relay rejoins us under a new id while b's offer to a1 is being decrypted.
    f.events.emit('joined', { selfId: 'a3', peers: ['b'] });
    expect(room.selfId).toBe('a3');
    hold.release();
    await waitFor(() => hold.finished() === 1, 'decryption finished');
    await new Promise((r) => setImmediate(r));
    // Without the check the offer made a responder transport for b under a3, on a record
    // the room no longer has: never answered, and left alive by leave() until its 15 s
    // connect timeout.
    expect(tr.made).toEqual([]);
    await room.leave();
    expect(tr.alive()).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('an offer from a peer that left the room meanwhile (its record forgotten) makes no connection', async () => {
    expect(shouldInitiate('b', 'a')).toBe(true);
    const { f, tr, clock, room, key } = await joinedWithB('a');
    const hold = holdDecryption();
    f.events.emit('signal', { from: 'b', data: await sealSignal(key, 'b', 'a', { s: 's1', d: { type: 'offer' } }) });
    await waitFor(() => hold.started() === 1, 'decryption started');
    // b leaves before its offer can be read (it sent it and quit).
    f.events.emit('peer-left', 'b');
    hold.release();
    await waitFor(() => hold.finished() === 1, 'decryption finished');
    await new Promise((r) => setImmediate(r));
    expect(tr.made).toEqual([]);
    await room.leave();
    expect(tr.alive()).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
