/**
 * A seeded scenario fuzz of spectators watching through forwarders (input-relay.ts,
 * control-relay.ts): players a, b, c play; random steps block and unblock spectator-player
 * pairs (a NAT pair without TURN), add players and spectators (some blocked from some
 * players, some over slow jittery links), make members leave or crash. Afterwards, 25 s
 * on: no player frozen, players agree on their states and lists, every running spectator
 * is listed by every player, follows within 100 frames and agrees with them, every
 * spectator that reaches a player runs, no player lists a spectator that left, and a
 * running spectator lists itself and no spectator the players do not list.
 * A failing seed prints its steps. SPECTATOR_FUZZ_SEEDS=1-200 runs a range instead of the
 * seeds below, which each found a bug of spectators watching through forwarders (607 and
 * 609 one among players alone: join-leave-deadlock.test.ts; 90, 184, 198, 208, 217, 292
 * and 411 ones of spectators' own lists: spectator-lists.test.ts, ended-spectator-join.test.ts;
 * 1439 a spectator taken for silent as its connection opened, silent-member.test.ts; 1977 one
 * whose only forwarder of a player went, spectator-links.test.ts).
 */
import { expect, it } from 'vitest';
import { connect, net, walk, type Walk } from './support/memory-sessions.js';

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function scenario(seed: number): Promise<string[]> {
  const r = rng(seed);
  const pick = <T,>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const n = net(seed);
  const logs: string[] = [];
  const steps: string[] = [];
  const rooms = await connect(n, ['a', 'b', 'c']);
  const sess = new Map<string, Walk>();
  const role = new Map<string, 'player' | 'spectator'>();
  const live = new Set<string>();
  rooms.forEach((room, i) => { sess.set(room.selfId, walk(room, n, i, {}, logs)); role.set(room.selfId, 'player'); live.add(room.selfId); });
  await n.advance(200);
  sess.get('a')!.start({ seed });
  await n.advance(1000);
  const blocked = new Set<string>();
  let next = 0;
  const names = ['d', 'e', 'f', 'g', 'v', 'w', 'x', 'y'];
  for (let i = 0; i < 20; i++) {
    const x = r();
    const ids = [...live];
    if (x < 0.3 && ids.length > 1) {
      const specs = ids.filter((i) => role.get(i) === 'spectator'); if (!specs.length) continue;
      const p = pick(specs); const q = pick(ids.filter((i) => i !== p && role.get(i) === 'player')); if (!q) continue;
      const key = [p, q].sort().join('-');
      if (!blocked.has(key)) { blocked.add(key); n.block(p, q); steps.push(`block ${key}`); }
    } else if (x < 0.45 && blocked.size) {
      const key = pick([...blocked]); blocked.delete(key); const [p, q] = key.split('-'); n.unblock(p!, q!); steps.push(`unblock ${key}`);
    } else if (x < 0.7 && next < names.length) {
      const id = names[next++]!; const spec = r() < 0.6;
      for (const o of live) if (r() < 0.35 && (spec ? role.get(o) === 'player' : false)) { const key = [id, o].sort().join('-'); blocked.add(key); n.block(id, o); }
      for (const o of live) if (spec && r() < 0.5) n.setLink(id, o, { latencyMs: 20 + Math.floor(r() * 300), jitterMs: Math.floor(r() * 200) });
      const s = walk(n.join('game', { peerId: id }), n, 3 + next, { spectator: spec }, logs);
      sess.set(id, s); role.set(id, spec ? 'spectator' : 'player'); live.add(id);
      steps.push(`t=${n.clock.now()} join ${id} ${spec ? 'spectator' : 'player'} blocked[${[...blocked].filter((k) => k.includes(id)).join(',')}]`);
    } else if (x < 0.8 && ids.length > 2) {
      const id = pick(ids.filter((i) => i !== 'a' || r() < 0.3)); sess.get(id)!.leave(); live.delete(id); steps.push(`leave ${id} t=${n.clock.now()}`);
    } else if (x < 0.87 && ids.length > 2) {
      const id = pick(ids); n.disconnect(id); live.delete(id); steps.push(`crash ${id}`);
    }
    const t = 300 + Math.floor(r() * 3000);
    await n.advance(t);
    steps.push(`advance ${t}`);
  }
  // (Only spectator-player pairs are blocked; a joiner's blocks are with players too.)
  for (const key of blocked) { const [p, q] = key.split('-'); if (role.get(p!) === 'player' && role.get(q!) === 'player') { n.unblock(p!, q!); } }
  await n.advance(25_000);
  const problems: string[] = [];
  const running = [...live].map((id) => sess.get(id)!);
  const players = running.filter((s) => s.status === 'running' && s.role === 'player');
  const f0 = Math.min(...players.map((s) => s.frame));
  await n.advance(2000);
  for (const s of players) if (s.frame < f0 + 60) problems.push(`player ${s.selfId} frozen at ${s.frame}`);
  const top = Math.min(...players.map((s) => s.frame)) - 20;
  for (const s of running) {
    const reachesPlayer = players.some((p) => p.selfId !== s.selfId && !blocked.has([p.selfId, s.selfId].sort().join('-')));
    if (s.status !== 'running') { if (reachesPlayer) problems.push(`${s.selfId} (${role.get(s.selfId)}) is ${s.status}`); continue; }
    if (s.role === 'spectator' && s.frame < top - 100) problems.push(`spectator ${s.selfId} behind: ${s.frame} vs ${top}`);
    for (let f = Math.ceil((top - 300) / 10) * 10; f <= Math.min(top, s.frame - 5); f += 10) {
      const hs = [...players, s].map((p) => p.hashAt(f)).filter((h) => h !== undefined);
      if (new Set(hs).size > 1) { problems.push(`${s.selfId} disagrees at ${f}`); break; }
    }
  }
  for (const p of players) for (const sp of p.spectators) { const ss = sess.get(sp)!; if (!live.has(sp) || ss.status === 'stopped' || ss.status === 'lobby') problems.push(`${p.selfId} lists ${sp} (${live.has(sp) ? ss.status : 'gone'})`); }
  for (const s of running) if (s.status === 'running' && s.role === 'spectator') for (const p of players) if (!p.spectators.includes(s.selfId)) problems.push(`${p.selfId} does not list running ${s.selfId}`);
  const lists = players.map((p) => `${p.selfId}:${[...p.players].sort().join(',')}/${[...p.spectators].sort().join(',')}`);
  if (new Set(lists.map((l) => l.slice(2))).size > 1) problems.push(`lists differ ${lists.join(' ')}`);
  // Spectators' own lists (PROTOCOL.md, "Forwarded inputs"): each lists itself and nobody
  // the players do not list. Not that it lists all they list: the documented gap (it misses
  // for good a spectator that only players it had no connection to reached when that one's
  // join came, or later) turns on which connections were open at those moments, which the
  // fuzz does not know (links open late, over slow and jittery links too), not on blocks alone.
  const listed = new Set(players[0]?.spectators ?? []);
  for (const s of running) {
    if (s.status !== 'running' || s.role !== 'spectator' || !players.length) continue;
    const extra = s.spectators.filter((sp) => !listed.has(sp));
    if (!s.spectators.includes(s.selfId) || extra.length) problems.push(`spectator ${s.selfId} lists ${[...s.spectators].sort().join(',')}, players ${[...listed].sort().join(',')}`);
  }
  for (const s of sess.values()) s.leave();
  return problems.length ? [`seed ${seed}: ${problems.join('; ')} | ${steps.filter((s) => !s.startsWith('advance')).join('; ')}`] : [];
}

function seeds(): number[] {
  const range = /^(\d+)-(\d+)$/.exec(process.env.SPECTATOR_FUZZ_SEEDS ?? '');
  if (!range) return [2, 90, 124, 178, 184, 198, 208, 217, 226, 232, 249, 292, 318, 411, 514, 549, 550, 607, 609, 963, 1439, 1977];
  return Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i);
}

it('spectators behind blocks, joins, leaves and crashes follow the players in agreement, and are listed alike', async () => {
  const failed: string[] = [];
  for (const seed of seeds()) failed.push(...(await scenario(seed)));
  expect(failed).toEqual([]);
}, 600_000);
