/**
 * Forwarded inputs (input-relay.ts): a spectator with no connection to one player (a NAT
 * pair that cannot get through, no TURN) is admitted and gets that player's inputs
 * forwarded by the lowest-id player it reaches that reaches that player; when that
 * forwarder leaves, the next one takes over. Forwarded inputs are taken only from the
 * chosen forwarder. Every player lists the spectator while some player reaches it, and
 * forgets it once none does (a crash). A player joining still needs a connection to every player.
 */
import { describe, expect, it } from 'vitest';
import { NOT_ADMITTED_MS } from '../../src/lockstep/lobby-wait.js';
import { buttons } from './games.js';
import { decodeRelay, encodeInputPacket, encodeRelay, generationOf, relayChannelName } from '../../src/lockstep/wire.js';
import { advanceUntil, connect, expectAgreement, net, playing, type Walk, walk } from './support/memory-sessions.js';

/** Nothing on the link ever arrives. */
const CUT = { latencyMs: 1e9 };

/**
 * Players a, b, c playing; spectator w arrives with no link to `unreachable` (c unless
 * told), its other links shaped by `links`. Resolves once w runs.
 */
async function watchWithout(seed: number, unreachable = 'c', links: Record<string, { latencyMs: number; jitterMs?: number }> = {}) {
  const n = net(seed);
  const logs: string[] = [];
  const rooms = await connect(n, ['a', 'b', 'c']);
  const ps = rooms.map((r, i) => walk(r, n, i, {}, logs)) as [Walk, Walk, Walk];
  await n.advance(200);
  ps[0].start({ seed });
  await n.advance(1000);
  // No connection between w and it can open, on either side (a NAT pair without TURN).
  n.block('w', unreachable);
  for (const [p, link] of Object.entries(links)) n.setLink('w', p, link);
  const wRoom = n.join('game', { peerId: 'w' });
  const w = walk(wRoom, n, 3, { spectator: true }, logs);
  const heard: string[] = [];
  w.on('rejoining', (e) => heard.push(`rejoining:${e.reason.code}`));
  w.on('not-admitted', () => heard.push('not-admitted'));
  w.on('stopped', (e) => heard.push(`stopped:${e.reason}`));
  w.on('absent', (e) => heard.push(`absent:${e.peer}`));
  const desyncs: string[] = [];
  for (const s of [...ps, w]) s.on('desync', (e) => desyncs.push(`${s.selfId}@${e.frame}`));
  let joinedAt = -1;
  w.on('started', (e) => (joinedAt = e.frame));
  await advanceUntil(n, () => w.status === 'running', NOT_ADMITTED_MS + 5000);
  const theirs = rooms[['a', 'b', 'c'].indexOf(unreachable)]!;
  expect({ status: w.status, heard, links: [wRoom.peers.has(unreachable), theirs.peers.has('w')] }).toEqual({ status: 'running', heard: [], links: [false, false] });
  return { n, logs, rooms, wRoom, ps, w, heard, desyncs, joinedAt: () => joinedAt };
}

describe('a spectator that cannot reach one player', () => {
  it('is admitted and follows the game in sync, with that player\'s inputs forwarded by the lowest-id player', async () => {
    const r = await watchWithout(701);
    const { n, ps, w } = r;
    const target = w.frame + 600;
    await advanceUntil(n, () => w.frame >= target && ps.every((s) => s.frame >= target), 30_000);
    expect(w.frame).toBeGreaterThanOrEqual(target);
    expect([...w.players].sort()).toEqual(['a', 'b', 'c']);
    // It never lagged behind: c's inputs came as fast as the others'.
    expect(Math.abs(ps[0].frame - w.frame)).toBeLessThanOrEqual(ps[0].inputDelay + 3);
    expect(expectAgreement([...ps, w], r.joinedAt(), target)).toBeGreaterThanOrEqual(60);
    expect({ heard: r.heard, desyncs: r.desyncs }).toEqual({ heard: [], desyncs: [] });
    expect(r.logs.filter((l) => /^w: taking c's inputs forwarded by/.test(l))).toEqual(["w: taking c's inputs forwarded by a"]);
    for (const s of [...ps, w]) s.leave();
  });

  it('leaves every player\'s spectator list when it leaves, the one it never reached too', async () => {
    const r = await watchWithout(705);
    const { n, ps, w } = r;
    await advanceUntil(n, () => ps.every((s) => s.spectators.includes('w')), 5000);
    w.leave();
    await n.advance(2000);
    // c never had a connection to w: it hears of the leave from a and b, which pass it on.
    expect(ps.map((s) => `${s.selfId}:${s.spectators.join(',')}`)).toEqual(['a:', 'b:', 'c:']);
    const frame = ps[0].frame;
    await advanceUntil(n, () => ps.every((s) => s.frame >= frame + 120), 10_000);
    expect(r.desyncs).toEqual([]);
    for (const s of ps) s.leave();
  });

  it('stays in every player\'s spectator list while some player reaches it, and leaves them all when it vanishes without a leave', async () => {
    const r = await watchWithout(706);
    const { n, ps, w } = r;
    const left: string[] = [];
    for (const s of ps) s.on('player-left', (e) => left.push(`${s.selfId}: ${e.peer}`));
    const lists = () => ps.map((s) => `${s.selfId}:${s.spectators.join(',')}`);
    // c has no connection to w, and lists it all the same: w watches, through a.
    await n.advance(3000);
    expect({ lists: lists(), left }).toEqual({ lists: ['a:w', 'b:w', 'c:w'], left: [] });
    // b loses its connection to w too: a still reaches w, so it stays a member everywhere,
    // and watches on with b's and c's inputs forwarded by a.
    n.block('w', 'b');
    const from = w.frame;
    await n.advance(8000);
    expect({ lists: lists(), left, heard: r.heard, status: w.status }).toEqual({ lists: ['a:w', 'b:w', 'c:w'], left: [], heard: [], status: 'running' });
    expect(Math.abs(ps[0].frame - w.frame)).toBeLessThanOrEqual(ps[0].inputDelay + 3);
    expect(expectAgreement([...ps, w], from, Math.min(w.frame, ps[0].frame) - 10)).toBeGreaterThan(30);
    // w crashes: a sees its connection time out and says so in its hello; b and c, which
    // had none, learn from it that no player reaches w any more.
    n.disconnect('w');
    await n.advance(5000);
    expect({ lists: lists(), left: left.sort() }).toEqual({ lists: ['a:', 'b:', 'c:'], left: ['a: w', 'b: w', 'c: w'] });
    const frame = ps[0].frame;
    await advanceUntil(n, () => ps.every((s) => s.frame >= frame + 120), 10_000);
    expect(r.desyncs.filter((d) => !d.startsWith('w@'))).toEqual([]);
    for (const s of ps) s.leave();
  });

  it('keeps up when its forwarder leaves: the next player takes over', async () => {
    const r = await watchWithout(702);
    const { n, ps, w } = r;
    const [a, b, c] = ps;
    await advanceUntil(n, () => w.frame >= r.joinedAt() + 300, 10_000);
    a.leave();
    const from = w.frame;
    const target = from + 600;
    await advanceUntil(n, () => w.frame >= target && b.frame >= target && c.frame >= target, 30_000);
    expect({ w: w.frame >= target, players: [...w.players].sort(), status: w.status }).toEqual({ w: true, players: ['b', 'c'], status: 'running' });
    expect(Math.abs(b.frame - w.frame)).toBeLessThanOrEqual(b.inputDelay + 3);
    expect(expectAgreement([b, c, w], from, target)).toBeGreaterThanOrEqual(60);
    expect({ heard: r.heard, desyncs: r.desyncs }).toEqual({ heard: [], desyncs: [] });
    expect(r.logs.filter((l) => /^w: taking c's inputs forwarded by/.test(l))).toEqual(["w: taking c's inputs forwarded by a", "w: taking c's inputs forwarded by b (was a)"]);
    for (const s of [b, c, w]) s.leave();
  });

  it('compares state hashes with the player it never reached, relayed by its forwarder: agreement, and a state of its own gone wrong shows there too', async () => {
    const r = await watchWithout(707);
    const { n, ps, w, rooms, logs } = r;
    const seen: string[] = [];
    for (const s of [...ps, w]) s.on('desync', (e) => seen.push(`${s.selfId}: ${Object.keys(e.hashes).sort().join(',')}`));
    await advanceUntil(n, () => w.frame >= r.joinedAt() + 300, 10_000);
    expect({ seen, logs: logs.filter((l) => /relayed|hash of frame/.test(l)) }).toEqual({ seen: [], logs: [] });
    // a, w's forwarder for c, forwards inputs c never sent: w steps a game of its own. Its
    // hashes reach c through a, and c's reach w: each sees the other differ.
    const fwd = rooms[0]!.channel(relayChannelName('lockstep', generationOf(707, 'a')), { reliability: 'unreliable' });
    const fake = buttons.encode({ up: true, down: false, left: true, right: false, fire: true });
    for (let i = 0; i < 5; i++) {
      const first = w.frame;
      const inputs = Array.from({ length: 200 }, () => fake);
      await fwd.send('w', encodeRelay({ type: 'inputs', player: 'c', packet: encodeInputPacket({ ack: first + 200, first, inputs }, buttons.byteLength) }));
      await n.advance(16);
    }
    await n.advance(3000);
    expect(seen.filter((l) => /^c: .*w/.test(l)).length).toBeGreaterThan(0);
    expect(seen.filter((l) => /^w: .*c/.test(l)).length).toBeGreaterThan(0);
    // Between the players, no desync: the forwarder misled w alone.
    expect(seen.filter((l) => !l.includes('w'))).toEqual([]);
    for (const s of [...ps, w]) s.leave();
  });

  it("ignores c's inputs forwarded by a member that is not its forwarder", async () => {
    const r = await watchWithout(703);
    const { n, ps, w, rooms } = r;
    await advanceUntil(n, () => w.frame >= r.joinedAt() + 120, 10_000);
    // b (a player, not w's forwarder for c: a is) claims inputs of c that c never sent,
    // for the frames just ahead of w, again and again so they would come first.
    const fwd = rooms[1]!.channel(relayChannelName('lockstep', generationOf(703, 'a')), { reliability: 'unreliable' });
    const forgedFrom = w.frame;
    const fake = buttons.encode({ up: true, down: false, left: true, right: false, fire: true });
    for (let i = 0; i < 20; i++) {
      const first = Math.max(forgedFrom, w.frame);
      const inputs = Array.from({ length: 200 }, () => fake);
      const bytes = encodeRelay({ type: 'inputs', player: 'c', packet: encodeInputPacket({ ack: first + 200, first, inputs }, buttons.byteLength) });
      await fwd.send('w', bytes);
      await n.advance(16);
    }
    const target = forgedFrom + 400;
    await advanceUntil(n, () => w.frame >= target && ps.every((s) => s.frame >= target), 20_000);
    expect(w.frame).toBeGreaterThanOrEqual(target);
    expect(expectAgreement([...ps, w], forgedFrom, target)).toBeGreaterThanOrEqual(30);
    expect(r.logs.some((l) => /^w: ignoring c's inputs forwarded by b, not our forwarder for it \(a\)/.test(l))).toBe(true);
    for (const s of [...ps, w]) s.leave();
  });
});

describe('a spectator that cannot reach the coordinator', () => {
  it('is admitted through a player, and follows players joining and leaving mid-game in sync, its control passed on by its forwarder for the coordinator', async () => {
    const r = await watchWithout(711, 'a');
    const { n, logs, ps, w, heard } = r;
    const [a, b, c] = ps;
    w.on('player-joined', (e) => e.role === 'player' && heard.push(`joined:${e.peer}@${e.atFrame}`));
    w.on('player-left', (e) => heard.push(`left:${e.peer}@${e.atFrame}`));
    const watchDesyncs = (s: Walk) => s.on('desync', (e) => r.desyncs.push(`${s.selfId}@${e.frame}`));
    // d joins as a player (it reaches everyone): w hears of it from b, which passes a's join on.
    const d = walk(n.join('game', { peerId: 'd' }), n, 4, {}, logs);
    watchDesyncs(d);
    await advanceUntil(n, () => w.players.includes('d') && d.status === 'running', 10_000);
    const dJoined = d.frame;
    await advanceUntil(n, () => w.frame >= dJoined + 120, 5000);
    // b, w's forwarder for a, leaves: c takes over, and passes on the drop and the next join.
    b.leave();
    await advanceUntil(n, () => !w.players.includes('b'), 5000);
    const e = walk(n.join('game', { peerId: 'e' }), n, 5, {}, logs);
    watchDesyncs(e);
    await advanceUntil(n, () => w.players.includes('e') && e.status === 'running', 10_000);
    const target = e.frame + 300;
    const rest = [a, c, d, e];
    await advanceUntil(n, () => w.frame >= target && rest.every((s) => s.frame >= target), 20_000);
    expect([...w.players].sort()).toEqual(['a', 'c', 'd', 'e']);
    expect(heard.map((h) => h.replace(/@\d+/, ''))).toEqual(['joined:d', 'left:b', 'joined:e']);
    // w stepped each join and the drop at the frames the players did: its states agree with theirs throughout.
    expect(Math.abs(a.frame - w.frame)).toBeLessThanOrEqual(a.inputDelay + 3);
    expect(expectAgreement([a, c, w], target - 450, target)).toBeGreaterThan(40);
    expect(expectAgreement([a, c, d, e, w], target - 250, target)).toBeGreaterThan(20);
    expect(r.desyncs).toEqual([]);
    expect(logs.filter((l) => /^w: taking a's inputs forwarded by/.test(l))).toEqual(["w: taking a's inputs forwarded by b", "w: taking a's inputs forwarded by c (was b)"]);
    for (const s of [...rest, w]) s.leave();
  });

  it('never steps a join frame before the join reaches it, over a link to its forwarder with 400 ms of jitter', async () => {
    // Its forwarder b sends it the coordinator's inputs past a join frame only once it
    // acknowledged the join b passed on: a join delayed behind those inputs (without that
    // gate, one arrived frames after its join frame, and w never counted that joiner).
    const { n, logs, ps, w } = await watchWithout(2, 'a', { b: { latencyMs: 20, jitterMs: 400 } });
    const joiners: Walk[] = [];
    for (const id of ['d', 'e', 'f']) {
      joiners.push(walk(n.join('game', { peerId: id }), n, 4, {}, logs));
      await advanceUntil(n, () => ps[0]!.players.includes(id), 10_000);
      await n.advance(1000);
    }
    const target = ps[0]!.frame + 200;
    await advanceUntil(n, () => w.frame >= target, 10_000);
    expect({ status: w.status, players: [...w.players].sort() }).toEqual({ status: 'running', players: ['a', 'b', 'c', 'd', 'e', 'f'] });
    // (At the join frame itself is in time: that frame is stepped next.)
    const late = logs.map((l) => /^w: join of \S+ at (\d+) arrived at frame (\d+)/.exec(l)).filter((m) => m && Number(m[2]) > Number(m[1]));
    expect(late).toEqual([]);
    expect(expectAgreement([...ps, w], target - 300, target)).toBeGreaterThan(25);
    expect(expectAgreement([...ps, ...joiners, w], target - 100, target)).toBeGreaterThan(8);
    for (const s of [...ps, ...joiners, w]) s.leave();
  });
});

describe('a spectator whose join was lost with its connection to the coordinator', () => {
  it('is admitted again, through a player, although the players still list it (b reaches it)', async () => {
    const n = net(712);
    const logs: string[] = [];
    const rooms = await connect(n, ['a', 'b']);
    const [a, b] = [walk(rooms[0]!, n, 0, {}, logs), walk(rooms[1]!, n, 1, {}, logs)];
    await n.advance(200);
    a.start({ seed: 712 });
    await n.advance(1000);
    // The coordinator's connection to w breaks the moment it sends w its join: the join is lost.
    a.on('player-joined', (e) => e.peer === 'w' && n.block('a', 'w'));
    const w = walk(n.join('game', { peerId: 'w' }), n, 2, { spectator: true }, logs);
    const heard: string[] = [];
    w.on('not-admitted', () => heard.push('not-admitted'));
    await advanceUntil(n, () => a.spectators.includes('w'), 10_000);
    await n.advance(500);
    expect({ w: w.status, listed: [a.spectators.includes('w'), b.spectators.includes('w')] }).toEqual({ w: 'lobby', listed: [true, true] });
    // Its hellos from the lobby, past that join's frame, say it never took it: a admits it again through b.
    await advanceUntil(n, () => w.status === 'running', 20_000);
    const target = w.frame + 300;
    await advanceUntil(n, () => w.frame >= target, 10_000);
    expect({ w: w.status, heard, spectators: [a.spectators, b.spectators] }).toEqual({ w: 'running', heard: [], spectators: [['w'], ['w']] });
    expect(expectAgreement([a, b, w], target - 200, target)).toBeGreaterThan(15);
    expect(logs.filter((l) => /^w: taking a's inputs forwarded by/.test(l))).toEqual(["w: taking a's inputs forwarded by b"]);
    for (const s of [a, b, w]) s.leave();
  });
});

describe('a player joining that cannot reach one player', () => {
  it('is not admitted, and told so naming that player, while a spectator in the same spot is admitted', async () => {
    const n = net(704);
    const rooms = await connect(n, ['a', 'b', 'c']);
    const ps = rooms.map((room, i) => walk(room, n, i));
    await n.advance(200);
    ps[0]!.start({ seed: 704 });
    await n.advance(1000);
    n.setLink('z', 'c', CUT);
    n.setLink('w', 'c', CUT);
    const z = walk(n.join('game', { peerId: 'z' }), n, 3);
    const w = walk(n.join('game', { peerId: 'w' }), n, 4, { spectator: true });
    const told: string[] = [];
    for (const s of [z, w]) s.on('not-admitted', (e) => told.push(`${s.selfId}: ${e.reason.code} unreachable ${e.unreachable.join(',')}`));
    await advanceUntil(n, () => told.length > 0 || z.status !== 'lobby', NOT_ADMITTED_MS + 5000);
    await n.advance(2000);
    expect({ told, z: z.status, w: w.status, players: [...ps[0]!.players].sort() }).toEqual({ told: ['z: not-admitted unreachable c'], z: 'lobby', w: 'running', players: ['a', 'b', 'c'] });
    for (const s of [...ps, z, w]) s.leave();
  });
});

describe('relay channel messages', () => {
  it('round-trip, and every truncation is rejected, never misread', () => {
    const want = { type: 'want' as const, wants: [['c', 1234], ['d', 0]] as Array<[string, number]> };
    const packet = encodeInputPacket({ ack: 12, first: 10, inputs: [new Uint8Array([1]), new Uint8Array([1])] }, 1);
    const inputs = { type: 'inputs' as const, player: 'c', packet };
    expect(decodeRelay(encodeRelay(want))).toEqual(want);
    expect(decodeRelay(encodeRelay(inputs))).toEqual(inputs);
    const bytes = encodeRelay(want);
    for (let i = 0; i < bytes.length; i++) expect(() => decodeRelay(bytes.slice(0, i))).toThrow();
    expect(() => decodeRelay(new Uint8Array([9]))).toThrow(/unknown relay message type 9/);
  });
});

describe('a spectator whose session stops while its join is on its way', () => {
  it('is forgotten by a player that cannot reach it once the coordinator counts it silent', async () => {
    const seed = 726;
    const n = net(seed);
    const logs: string[] = [];
    const { rooms, players: [a, b] } = await playing(n, seed, ['a', 'b'], logs);
    // w reaches the coordinator a alone, over 300 ms; it leaves (still in the lobby) the
    // moment a admits it, so the join finds its session stopped: w stays in the room,
    // connected to a, and never sends a packet of the game.
    n.block('b', 'w');
    n.setLink('w', 'a', { latencyMs: 300 });
    const w = walk(n.join('game', { peerId: 'w' }), n, 2, { spectator: true }, logs);
    const absent: string[] = [];
    a.on('absent', (e) => absent.push(`${e.peer}:${e.role}`));
    a.on('player-joined', (e) => { if (e.peer === 'w' && w.status === 'lobby') w.leave(); });
    await advanceUntil(n, () => a.spectators.includes('w') && b.spectators.includes('w'), 15_000);
    expect(w.status).toBe('stopped');
    // After SILENT_MEMBER_MS a counts w absent and forgets it; b, with no connection to w,
    // never counts it silent and a's hello still lists w as connected: b must hear it from a.
    await n.advance(15_000);
    expect({ absent, linked: rooms[0]!.peers.has('w'), lists: [a.spectators, b.spectators] }).toEqual({ absent: ['w:spectator'], linked: true, lists: [[], []] });
    expect(expectAgreement([a, b], a.frame - 300, a.frame - 100)).toBeGreaterThan(15);
    for (const s of [a, b]) s.leave();
  });
});
