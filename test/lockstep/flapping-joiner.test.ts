/**
 * A late joiner over a link so slow (1.2–1.5 s one way) that the room's heartbeats time
 * out: its connections close and reopen every ~3 s for a while, and it is admitted,
 * dropped, admitted again. Found by a fuzz on the in-memory network. Once the link was
 * normal again, three things went wrong, each for good:
 * - the players froze: their report on the joiner's first admission was still marked as
 *   sent, so nobody reported on its next one and its drop was never decided;
 * - a joiner whose admission the players dropped before its snapshot stopped its session
 *   (`dropped`) instead of going back to the lobby;
 * - a joiner whose connection to the coordinator closed with the join still on it never
 *   heard of it, so its hellos' `after` stayed below that join frame, and the coordinator
 *   took every hello of it for a stale one (`not-admitted`, nobody unreachable).
 */
import { describe, expect, it } from 'vitest';
import { type RejoinCode } from '../../src/lockstep/admission.js';
import { advanceUntil, connect, expectAgreement, net, walk, type Walk } from './support/memory-sessions.js';

async function flappingJoin(seed: number, players: number, latencyMs: number, slowForMs: number) {
  const n = net(seed);
  const ids = ['a', 'b', 'c', 'd'].slice(0, players);
  const rooms = await connect(n, ids);
  const ps = rooms.map((r, i) => walk(r, n, i));
  await n.advance(500);
  ps[0]!.start({ seed });
  await n.advance(3000);
  for (const p of ids) n.setLink('j', p, { latencyMs });
  const j = walk(n.join('game', { peerId: 'j' }), n, players);
  const heard: string[] = [];
  let joinedAt = -1;
  j.on('started', (e) => (joinedAt = e.frame));
  j.on('rejoining', (e) => heard.push(`rejoining:${e.reason.code as RejoinCode}`));
  j.on('not-admitted', () => heard.push('not-admitted'));
  j.on('stopped', (e) => heard.push(`stopped:${e.reason}`));
  const admissions = new Set<number>();
  ps[0]!.on('player-joined', (e) => e.peer === 'j' && admissions.add(e.atFrame));
  await n.advance(slowForMs);
  for (const p of ids) n.setLink('j', p, { latencyMs: 20 });
  await n.advance(5000); // heartbeats and the connections settle
  const before = ps.map((s) => s.frame);
  await advanceUntil(n, () => j.status === 'running' && j.frame >= joinedAt + 600 && ps.every((s, i) => s.frame >= before[i]! + 600), 30_000);
  const moved = ps.map((s, i) => s.frame - before[i]! >= 600);
  return { n, ps, j, heard, joinedAt, moved, admissions };
}

function expectAllPlayOn(r: Awaited<ReturnType<typeof flappingJoin>>, sessions: Walk[]): void {
  expect({ moved: r.moved, j: r.j.status, playing: [...r.ps[0]!.players].sort() }).toEqual({
    moved: r.ps.map(() => true), j: 'running', playing: [...r.ps.map((s) => s.selfId), 'j'].sort(),
  });
  const to = Math.min(...sessions.map((s) => s.frame));
  expect(expectAgreement(sessions, r.joinedAt, to)).toBeGreaterThan(50);
  for (const s of sessions) s.leave();
}

describe('a late joiner whose connections keep dropping', () => {
  it('admitted and dropped twice, two players: the players play on, and it plays with them once its link is normal', async () => {
    const r = await flappingJoin(1, 2, 1500, 8000);
    expectAllPlayOn(r, [...r.ps, r.j]);
    expect(r.admissions.size).toBeGreaterThanOrEqual(3); // dropped after each of the first two
  });

  it('dropped before its snapshot: it goes back to the lobby and is admitted again', async () => {
    const r = await flappingJoin(1201, 3, 1200, 6000);
    expect(r.heard).toContain('rejoining:join-dropped');
    expect(r.heard.filter((h) => h.startsWith('stopped'))).toEqual([]);
    expectAllPlayOn(r, [...r.ps, r.j]);
  });

  it('its join lost with a closing connection: its hellos over the new one admit it', async () => {
    const r = await flappingJoin(1501, 3, 1500, 8000);
    expect(r.heard).not.toContain('not-admitted');
    expectAllPlayOn(r, [...r.ps, r.j]);
  });
});
