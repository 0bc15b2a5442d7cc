/**
 * Password rooms against a hostile relay (which holds no key but can forge plaintext,
 * send garbage and replay any ciphertext it has carried) and against members with
 * another password: none of it may evict a member that shares the password, cut a pair
 * that has shown it shares it, or tear down an open connection.
 */
import { describe, expect, it } from 'vitest';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { shouldInitiate } from '../../src/mesh/glare.js';
import { type Logger, silentLogger } from '../../src/mesh/logger.js';
import type { MeshOptions } from '../../src/mesh/mesh-options.js';
import { deriveSignalKey, openSignal, sealSignal } from '../../src/mesh/signal-crypto.js';
import type { Room } from '../../src/mesh/types.js';
import { MemoryRelay } from '../../src/signaling-client/memory-signaling.js';
import type { Signaling } from '../../src/signaling-client/types.js';
import { MemoryWire } from '../../src/transport/memory.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { waitFor } from '../support/net.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A peer's signaling as the relay sees it: outgoing signals recorded, arbitrary incoming ones injectable "from" anyone. */
function hostile(inner: Signaling) {
  const sent: Array<{ to: string; data: unknown }> = [];
  const listeners: Array<(s: { from: string; data: unknown }) => void> = [];
  const signaling: Signaling = {
    get status() {
      return inner.status;
    },
    join: () => inner.join(),
    close: () => inner.close(),
    on: ((e: string, l: (v: unknown) => void) => {
      if (e === 'signal') listeners.push(l as never);
      return inner.on(e as never, l as never);
    }) as Signaling['on'],
    sendSignal: (to, data) => {
      sent.push({ to, data: structuredClone(data) });
      inner.sendSignal(to, data);
    },
  };
  const inject = (from: string, data: unknown) => {
    for (const l of listeners) l({ from, data });
  };
  return { signaling, sent, inject };
}

function world() {
  const relay = new MemoryRelay();
  const wire = new MemoryWire();
  const join = (id: string, password?: string, extra: Partial<MeshOptions> = {}) => {
    const h = hostile(relay.client('room', id));
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger(), warn: (msg: string) => void warnings.push(msg) };
    const room = createMesh({ room: 'room', signaling: h.signaling, transports: wire.factory(id), password, logger, ...extra });
    const errors: MeshpartyError[] = [];
    const left: string[] = [];
    room.on('error', (e) => errors.push(e));
    room.on('peer-left', ({ id: p, reason }) => left.push(`${p}:${reason}`));
    return { room, errors, left, warnings, ...h };
  };
  return { join, relay, wire };
}

const closeAll = (rooms: Room[]) => Promise.all(rooms.map((r) => r.leave()));

/** Two members of a room with password 'pw', connected. */
async function pair() {
  const w = world();
  const a = w.join('a', 'pw');
  await waitFor(() => a.room.selfId === 'a', 'a joined');
  const b = w.join('b', 'pw');
  await waitFor(() => a.room.peers.size === 1 && b.room.peers.size === 1, 'a-b open');
  return { w, a, b };
}

describe('password rooms against forged mismatches', () => {
  it('a forged plaintext notice "from" an older member that decrypted does not make us leave with wrong-password', async () => {
    const { a, b } = await pair();
    b.inject('a', { x: 1 });
    b.inject('a', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await sleep(100);
    expect(b.errors.map((e) => e.code)).toEqual([]);
    expect(b.room.status).not.toBe('closed');
    expect(b.room.peers.size).toBe(1);
    expect(b.left).toEqual([]);
    await closeAll([a.room, b.room]);
  });

  it('forged garbage or a notice "from" a newer member that decrypted does not cut the pair', async () => {
    const { a, b } = await pair();
    a.inject('b', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    a.inject('b', { x: 1 });
    await sleep(100);
    expect(a.left).toEqual([]);
    expect(a.room.peers.size).toBe(1);
    expect(b.room.peers.size).toBe(1);
    // Nothing was marked either: the pair still reconnects after a real failure.
    expect(a.sent.some((s) => (s.data as { x?: number }).x === 1)).toBe(false);
    await closeAll([a.room, b.room]);
  });
});

describe('password rooms: whose password is wrong', () => {
  it('an older member without the password does not make a newcomer that decrypts another older member fail', async () => {
    const w = world();
    const a = w.join('a', 'pw');
    await waitFor(() => a.room.selfId === 'a', 'a joined');
    // A squatter with no password: a raw relay client answering any newcomer with a notice.
    const z = w.relay.client('room', 'z');
    z.on('peer-joined', (id) => z.sendSignal(id, { x: 1 }));
    z.join();
    await waitFor(() => z.status === 'connected', 'z joined');
    await sleep(50);
    const c = w.join('c', 'pw');
    await waitFor(() => c.room.peers.size === 1 || c.room.status === 'closed', 'c settles');
    await sleep(100);
    expect(c.errors.map((e) => e.code)).toEqual([]);
    expect(c.room.status).not.toBe('closed');
    z.close();
    await closeAll([a.room, c.room]);
  });

  it('an older member with a mistyped password does not make a correct newcomer fail', async () => {
    const w = world();
    const a = w.join('a', 'pw');
    await waitFor(() => a.room.selfId === 'a', 'a joined');
    // An older member with another password that has not left yet: it offers to every
    // newcomer, sealed with its key, and answers whatever it cannot decrypt with a notice.
    const typo = await deriveSignalKey('typo', 'room');
    const m = w.relay.client('room', 'm');
    m.on('peer-joined', (id) => void sealSignal(typo, 'm', id, { s: '0123456789abcdef', d: { type: 'offer', ref: 1 } }).then((t) => m.sendSignal(id, t)));
    m.on('signal', ({ from, data }) => typeof data === 'string' && m.sendSignal(from, { x: 1 }));
    m.join();
    await waitFor(() => m.status === 'connected', 'm joined');
    await sleep(50);
    const c = w.join('c', 'pw');
    await waitFor(() => c.room.peers.size === 1 || c.room.status === 'closed', 'c settles');
    await sleep(100);
    expect(c.errors.map((e) => e.code)).toEqual([]);
    expect(c.room.peers.size).toBe(1);
    m.close();
    await closeAll([a.room, c.room]);
  });

  it('a newcomer with the wrong password still fails when one older member stays silent (after connectTimeoutMs)', async () => {
    const w = world();
    const a = w.join('a', 'pw');
    await waitFor(() => a.room.selfId === 'a', 'a joined');
    const z = w.relay.client('room', 'z'); // joined, never says anything
    z.join();
    await waitFor(() => z.status === 'connected', 'z joined');
    const bad = w.join('bad', 'typo', { connectTimeoutMs: 400 });
    await waitFor(() => bad.errors.length > 0, 'wrong-password', 5000);
    expect(bad.errors.map((e) => e.code)).toEqual(['wrong-password']);
    expect(a.errors).toEqual([]);
    z.close();
    await closeAll([a.room, bad.room]);
  });
});
