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
import { MemoryWire } from '../../src/transport/memory.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { waitFor } from '../support/net.js';
import { hostileSignaling } from '../support/tapped-signaling.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


function world() {
  const relay = new MemoryRelay();
  const wire = new MemoryWire();
  const join = (id: string, password?: string, extra: Partial<MeshOptions> = {}) => {
    const h = hostileSignaling(relay.client('room', id));
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

/** Decrypt every sealed signal `from` sent to `to`. */
async function opened(key: CryptoKey, sent: Array<{ to: string; data: unknown }>, from: string, to: string) {
  const out: Array<{ text: string; plain: Record<string, unknown> }> = [];
  for (const s of sent) {
    if (s.to !== to || typeof s.data !== 'string') continue;
    out.push({ text: s.data, plain: (await openSignal(key, from, to, s.data)) as Record<string, unknown> });
  }
  return out;
}

describe('password rooms against replayed signals', () => {
  const roles = async () => {
    const p = await pair();
    const [initId, respId] = shouldInitiate('a', 'b') ? ['a', 'b'] : ['b', 'a'];
    const [init, resp] = initId === 'a' ? [p.a, p.b] : [p.b, p.a];
    const key = await deriveSignalKey('pw', 'room');
    return { ...p, init, resp, initId, respId, key };
  };

  it('an exact replay of a sealed signal is dropped', async () => {
    const { a, b, init, resp, initId, respId, key } = await roles();
    await sleep(50);
    const restarts = (await opened(key, resp.sent, respId, initId)).filter((s) => s.plain.r === null);
    expect(restarts.length).toBeGreaterThan(0);
    const offer = (await opened(key, init.sent, initId, respId)).find((s) => (s.plain.d as { type?: string }).type === 'offer')!;
    for (let i = 0; i < 3; i++) init.inject(respId, restarts[0]!.text);
    resp.inject(initId, offer.text);
    await sleep(50);
    expect(init.warnings.filter((w) => w === 'dropped a replayed signal')).toHaveLength(3);
    expect(resp.warnings.filter((w) => w === 'dropped a replayed signal')).toHaveLength(1);
    expect([...init.left, ...resp.left]).toEqual([]);
    await closeAll([a.room, b.room]);
  });

  it('a restart request {r:null} for an open connection whose peer still answers does not restart it', async () => {
    const { a, b, init, initId, respId, key } = await roles();
    // Sealed anew (as a replay from before the IV window, or of an earlier record, would be).
    for (let i = 0; i < 3; i++) {
      init.inject(respId, await sealSignal(key, respId, initId, { r: null }));
      await sleep(300); // past the probe window: the probe has been answered
    }
    expect(init.left).toEqual([]);
    expect(a.room.peers.size).toBe(1);
    expect(b.room.peers.size).toBe(1);
    await closeAll([a.room, b.room]);
  });

  it('a description for the open session is dropped (meshparty never renegotiates)', async () => {
    const { a, b, init, resp, initId, respId, key } = await roles();
    const sessionOf = async () => (await opened(key, init.sent, initId, respId)).find((s) => typeof s.plain.s === 'string')!.plain.s as string;
    const s = await sessionOf();
    // An answer reaching the responder of the open session: the memory transport, like
    // WebRTC, would take it for a new negotiation (here: a bad signal closing the pair).
    resp.inject(initId, await sealSignal(key, initId, respId, { s, d: { type: 'answer', ref: 1 } }));
    await sleep(100);
    expect([...init.left, ...resp.left]).toEqual([]);
    expect(a.room.peers.size).toBe(1);
    expect(b.room.peers.size).toBe(1);
    await closeAll([a.room, b.room]);
  });

  it('a peer that restarts with the same id is reconnected', async () => {
    const w = world();
    const a = w.join('a', 'pw');
    await waitFor(() => a.room.selfId === 'a', 'a joined');
    const b = w.join('b', 'pw');
    await waitFor(() => a.room.peers.size === 1 && b.room.peers.size === 1, 'a-b open');
    // b's process dies without a word (its transports vanish), and a new b joins at once.
    w.wire.disconnect('b');
    await b.room.leave();
    w.wire.restore('b');
    const b2 = w.join('b', 'pw');
    await waitFor(() => a.room.peers.size === 1 && b2.room.peers.size === 1, 'a-b2 open', 10_000);
    expect(a.errors).toEqual([]);
    expect(b2.errors).toEqual([]);
    await closeAll([a.room, b2.room]);
  });
});
