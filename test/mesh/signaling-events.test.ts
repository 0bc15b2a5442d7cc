import { describe, expect, it } from 'vitest';
import { shouldInitiate } from '../../src/mesh/glare.js';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Signaling, SignalingEvents, SignalingStatus } from '../../src/signaling-client/types.js';
import { MemoryWire } from '../../src/transport/memory.js';
import type { PeerTransportFactory } from '../../src/transport/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import { MeshpartyError } from '../../src/util/errors.js';

/** A signaling driven by the test. */
function fakeSignaling() {
  const events = new Emitter<SignalingEvents>();
  let status: SignalingStatus = 'connecting';
  const sent: Array<{ to: string; data: unknown }> = [];
  let closes = 0;
  const s: Signaling = {
    get status() {
      return status;
    },
    join: () => {},
    sendSignal: (to, data) => sent.push({ to, data }),
    on: (e, l) => events.on(e, l),
    close: () => void closes++,
  };
  const setStatus = (next: SignalingStatus) => {
    status = next;
    events.emit('status', next);
  };
  return { s, events, sent, setStatus, closes: () => closes };
}

describe('signaling events seen by the room', () => {
  it('mirrors signaling status, passes real errors through, keeps routine relay refusals quiet, and closes when signaling gives up', () => {
    const f = fakeSignaling();
    const room = createMesh({ room: 'r', signaling: f.s, transports: new MemoryWire().factory('me'), logger: silentLogger() });
    const statuses: string[] = [];
    const errors: string[] = [];
    room.on('status', (s) => statuses.push(s));
    room.on('error', (e) => errors.push(e.code));
    expect(room.status).toBe('connecting');
    f.setStatus('connected');
    f.events.emit('joined', { selfId: 'me', peers: [] });
    expect(room.selfId).toBe('me');
    f.setStatus('reconnecting');
    f.events.emit('error', new MeshpartyError('unknown-peer', 'signal to a peer that left'));
    f.events.emit('error', new MeshpartyError('token-expired', 'token expired'));
    f.setStatus('connected');
    f.setStatus('closed');
    expect(statuses).toEqual(['connected', 'reconnecting', 'connected', 'closed']);
    expect(errors).toEqual(['token-expired']);
    expect(room.status).toBe('closed');
    expect(f.closes()).toBe(1);
  });

  it('a responder asks an initiator it has no connection to for an offer; malformed signals are dropped', () => {
    const f = fakeSignaling();
    const room = createMesh({ room: 'r', signaling: f.s, transports: new MemoryWire().factory('m'), logger: silentLogger() });
    f.events.emit('joined', { selfId: 'm', peers: ['b', 'e'] });
    // The glare rule makes 'b' the offerer towards 'm' (we only nudge it) and 'm' the offerer towards 'e' (after a microtask).
    expect(shouldInitiate('m', 'b')).toBe(false);
    expect(shouldInitiate('m', 'e')).toBe(true);
    expect(f.sent).toEqual([{ to: 'b', data: { r: null } }]);
    // Under an id the relay has just made up, nobody can hold a stale connection to us: no nudge.
    const g = fakeSignaling();
    createMesh({ room: 'r', signaling: g.s, transports: new MemoryWire().factory('m'), logger: silentLogger() });
    g.events.emit('joined', { selfId: 'm', peers: ['b'], fresh: true });
    g.events.emit('peer-joined', 'y');
    expect(shouldInitiate('m', 'y')).toBe(false);
    expect(g.sent).toEqual([]);
    // After a rejoin under the same id (a relay outage) the nudges resume.
    g.events.emit('joined', { selfId: 'm', peers: ['b'] });
    expect(g.sent).toEqual([{ to: 'b', data: { r: null } }]);
    const errors: string[] = [];
    room.on('error', (e) => errors.push(e.code));
    for (const junk of [null, 42, [], { s: '' }, { s: 'x'.repeat(65), d: 1 }, { r: 5 }, { s: 'ok', d: 'not a memory signal' }]) {
      f.events.emit('signal', { from: 'b', data: junk });
    }
    expect(room.peers.size).toBe(0);
    expect(room.status).not.toBe('closed');
    expect(errors).toEqual([]);
    // Ciphertext (a string) from every older peer in a room without password: our password is the wrong one.
    // One older peer alone proves nothing while another may still share our password.
    f.events.emit('signal', { from: 'b', data: 'c2VjcmV0' });
    expect(errors).toEqual([]);
    expect(f.sent.at(-1)).toEqual({ to: 'b', data: { x: 1 } });
    f.events.emit('signal', { from: 'e', data: 'c2VjcmV0' });
    expect(errors).toEqual(['wrong-password']);
    expect(f.sent.at(-1)).toEqual({ to: 'e', data: { x: 1 } });
    expect(room.status).toBe('closed');
  });

  it('reports a transport that cannot be created as transport-failed instead of throwing', () => {
    const f = fakeSignaling();
    const transports = {
      create: () => {
        throw new Error('no RTCPeerConnection in this environment');
      },
    };
    const room = createMesh({ room: 'r', signaling: f.s, transports, logger: silentLogger() });
    const errors: string[] = [];
    room.on('error', (e) => errors.push(e.code));
    expect(shouldInitiate('m', 'e')).toBe(true); // so 'm' creates a transport at once
    f.events.emit('joined', { selfId: 'm', peers: ['e'] });
    expect(errors).toEqual(['transport-failed']);
    expect(room.peers.size).toBe(0);
    void room.leave();
  });

  it('after the relay gives us a new id, a retry pending under the old one makes no orphan connection, and nothing outlives leave()', async () => {
    // Ids from which we initiate towards 'b' both before and after the change.
    const [oldId, newId] = Array.from({ length: 50 }, (_, i) => `x${i}`).filter((id) => shouldInitiate(id, 'b'));
    const clock = new ManualClock();
    const inner = new MemoryWire({ clock }).factory('any');
    const created: string[] = [];
    const transports: PeerTransportFactory = {
      create: (o) => {
        created.push(`${o.localId}->${o.remoteId}`);
        return inner.create(o);
      },
    };
    const { s, events } = fakeSignaling();
    const room = createMesh({ room: 'r', signaling: s, transports, clock, logger: silentLogger(), farewellTimeoutMs: 0 });
    events.emit('joined', { selfId: oldId!, peers: ['b'] });
    // The offer is never answered: the connect timeout (15 s), then a retry waits.
    await clock.advanceAsync(15_000 + 100);
    expect(created).toEqual([`${oldId}->b`]);
    events.emit('joined', { selfId: newId!, peers: ['b'] });
    expect(created).toEqual([`${oldId}->b`, `${newId}->b`]);
    await clock.advanceAsync(1000);
    expect(created).toEqual([`${oldId}->b`, `${newId}->b`]);
    await room.leave();
    expect(clock.pending).toBe(0);
  });
});
