import { describe, expect, it } from 'vitest';
import { Kind, encodeControl, generationOf } from '../../src/lockstep/wire.js';
import { advanceUntil, connect, net, walk } from './support/memory-sessions.js';

/** Players a and b in a session; x is in the room but runs no session, and sends forged control. */
async function sessionWithOutsider(seed: number) {
  const n = net(seed);
  const logs: string[] = [];
  const rooms = await connect(n, ['a', 'b', 'x']);
  const [a, b] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs)];
  await n.advance(200);
  a.start({ seed, players: ['a', 'b'] });
  await advanceUntil(n, () => a.frame >= 100 && b.frame >= 100, 10_000);
  const forge = rooms[2]!.channel('lockstep:ctl', { reliability: 'reliable' });
  return { n, a, b, logs, forge, gen: generationOf(seed) };
}

describe('control messages from a peer that is not in the session', () => {
  it('a forged `leave` naming a player is ignored and logged as a bad message', async () => {
    const { n, a, b, logs, forge, gen } = await sessionWithOutsider(41);
    const left: string[] = [];
    a.on('player-left', (e) => left.push(e.peer));
    await forge.send('a', encodeControl({ kind: Kind.leave, gen, peer: 'b', since: 0 }));
    await n.advance(3000);
    expect({ left, bStatus: b.status, players: [...a.players] }).toEqual({ left: [], bStatus: 'running', players: ['a', 'b'] });
    expect(logs.some((l) => /^a: dropped a message from x: .*not a member/.test(l))).toBe(true);
    for (const s of [a, b]) s.leave();
  });

  it('a forged `drop` (with forged inputs) for another player is not applied', async () => {
    const { n, a, b, logs, forge, gen } = await sessionWithOutsider(42);
    const desyncs: number[] = [];
    for (const s of [a, b]) s.on('desync', (d) => desyncs.push(d.frame));
    const at = b.frame + 30;
    const inputs = Array.from({ length: 30 }, () => new Uint8Array([16]));
    await forge.send('b', encodeControl({ kind: Kind.drop, gen, leaver: 'a', since: 0, atFrame: at, base: b.frame, inputs }));
    await n.advance(3000);
    expect({ bStatus: b.status, bPlayers: [...b.players], desyncs }).toEqual({ bStatus: 'running', bPlayers: ['a', 'b'], desyncs: [] });
    expect(logs.some((l) => /^b: dropped a message from x: .*not a member/.test(l))).toBe(true);
    for (const s of [a, b]) s.leave();
  });

  it('a forged `report` on a player is not counted (only answered with a decision), and the session runs on', async () => {
    const { n, a, b, logs, forge, gen } = await sessionWithOutsider(43);
    await forge.send('a', encodeControl({ kind: Kind.report, gen, leaver: 'b', since: 0, next: a.frame + 5000, base: a.frame, inputs: [] }));
    await forge.send('a', encodeControl({ kind: Kind.hash, gen, frame: 1_000_000, hash: 1 }));
    await n.advance(1000);
    expect({ aStatus: a.status, bStatus: b.status, players: [...a.players] }).toEqual({ aStatus: 'running', bStatus: 'running', players: ['a', 'b'] });
    expect(logs.some((l) => /^a: report on b from x, not a member/.test(l))).toBe(true);
    for (const s of [a, b]) s.leave();
  });
});

describe('requestState', () => {
  it('leave() resolves a pending request with undefined (its timer does not outlive the session)', async () => {
    const { n, a, b } = await sessionWithOutsider(44);
    n.setLink('a', 'b', { latencyMs: 10_000 }); // no answer within the timeout
    const timedOut = a.requestState('b', 10, 100);
    const pending = a.requestState('b', 20, 60_000);
    await n.advance(200);
    expect(await timedOut).toBeUndefined();
    let settled = false;
    void pending.then(() => (settled = true));
    a.leave();
    await n.advance(0);
    expect(settled).toBe(true);
    expect(await pending).toBeUndefined();
    b.leave();
  });
});
