import { describe, expect, it } from 'vitest';
import { STATES_PER_SECOND } from '../../src/lockstep/hash-exchange.js';
import { Kind, decodeControl, encodeControl, generationOf } from '../../src/lockstep/wire.js';
import { advanceUntil, connect, net, walk, playersAndSpectator } from './support/memory-sessions.js';

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
  return { n, a, b, logs, forge, gen: generationOf(seed, 'a') };
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
    await forge.send('a', encodeControl({ kind: Kind.hash, gen, frame: 1_000_000, hash: 1, players: 0, delay: 2 }));
    await n.advance(1000);
    expect({ aStatus: a.status, bStatus: b.status, players: [...a.players] }).toEqual({ aStatus: 'running', bStatus: 'running', players: ['a', 'b'] });
    expect(logs.some((l) => /^a: report on b from x, not a member/.test(l))).toBe(true);
    for (const s of [a, b]) s.leave();
  });
});

describe('requestState', () => {
  it('a member asking for states in a loop is sent STATES_PER_SECOND a second (the rest answered without one); a dump still gets its state', async () => {
    const n = net(45);
    const logs: string[] = [];
    const { rooms, a, b, w } = await playersAndSpectator(n, 45, logs, 200);
    // w, a spectator member, asks a for a state 5000 times: a few bytes each, a whole state back.
    const ctl = rooms[2]!.channel('lockstep:ctl');
    const answers = { state: 0, none: 0 };
    ctl.on('message', ({ from, data }) => {
      const m = decodeControl(data);
      if (m.kind === Kind.stateRes && from === 'a') answers[m.state ? 'state' : 'none']++;
    });
    const frame = Math.floor((a.frame - 20) / 10) * 10;
    for (let i = 0; i < 5000; i++) void ctl.send('a', encodeControl({ kind: Kind.stateReq, gen: generationOf(45, 'a'), frame }));
    await n.advance(200);
    expect(answers).toEqual({ state: STATES_PER_SECOND, none: 5000 - STATES_PER_SECOND });
    expect(logs.filter((l) => /^a: answering w's state requests without a state/.test(l)).length).toBe(1);
    // Others' requests have their own budget, and w's is back a second later.
    const fromB = b.requestState('a', frame);
    await n.advance(200);
    expect(await fromB).toEqual(a.stateAt(frame));
    await n.advance(1000);
    const fromW = w.requestState('a', frame);
    await n.advance(200);
    expect(await fromW).toEqual(a.stateAt(frame));
    expect(a.stateAt(frame)).toBeInstanceOf(Uint8Array);
    for (const s of [a, b, w]) s.leave();
  });

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

describe('`start` from a peer that is not in the lobby with us', () => {
  it('a room peer running no session cannot start the players into a game of its making; a real start then works', async () => {
    const n = net(46);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b', 'x']);
    const [a, b] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs)];
    await n.advance(1500);
    const forge = rooms[2]!.channel('lockstep:ctl', { reliability: 'reliable' });
    const start = encodeControl({ kind: Kind.start, gen: generationOf(46, 'x'), startFrame: 0, players: ['a', 'b', 'x'], spectators: [], seed: 46, tickHz: 60, delay: 2, hashEvery: 10 });
    for (const to of ['a', 'b']) await forge.send(to, start);
    await n.advance(500);
    expect({ a: a.status, b: b.status }).toEqual({ a: 'lobby', b: 'lobby' });
    expect(logs.some((l) => /^a: dropped a message from x: a start from x, which never said hello from the lobby/.test(l))).toBe(true);
    a.start({ seed: 47 });
    await advanceUntil(n, () => b.frame >= 100, 10_000);
    expect({ a: a.status, b: b.status, players: [...b.players].sort() }).toEqual({ a: 'running', b: 'running', players: ['a', 'b'] });
    for (const s of [a, b]) s.leave();
  });

  it("a lobby peer's start with another starter's generation is refused (a concurrent start must be told apart)", async () => {
    const n = net(48);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b', 'x']);
    const [a, b] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs)];
    walk(rooms[2]!, n, 2); // x says hello from the lobby
    await n.advance(1500);
    const forge = rooms[2]!.channel('lockstep:ctl', { reliability: 'reliable' });
    const start = encodeControl({ kind: Kind.start, gen: generationOf(48, 'a'), startFrame: 0, players: ['a', 'b', 'x'], spectators: [], seed: 48, tickHz: 60, delay: 2, hashEvery: 10 });
    for (const to of ['a', 'b']) await forge.send(to, start);
    await n.advance(500);
    expect({ a: a.status, b: b.status }).toEqual({ a: 'lobby', b: 'lobby' });
    expect(logs.some((l) => /^a: dropped a message from x: a start from x with generation \d+, not its own/.test(l))).toBe(true);
  });
});
