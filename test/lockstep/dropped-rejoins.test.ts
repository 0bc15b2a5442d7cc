/**
 * A player the others drop while it is still in the room (its link to one player closed,
 * so both ends reported each other gone) goes back to the lobby and is admitted again once
 * it can reach every player. Before, its session stopped for good (reason `dropped`): in
 * the demo, two friends whose link blinked sat on a frozen arena until they reloaded.
 */
import { expect, it } from 'vitest';
import { connect, expectAgreement, net, walk } from './support/memory-sessions.js';

it('players dropped over a broken link between them rejoin (code dropped) and play again once it heals', async () => {
  const n = net(10);
  const rooms = await connect(n, ['a', 'b', 'c']);
  const sessions = rooms.map((r, i) => walk(r, n, i));
  const [a, b, c] = sessions as [(typeof sessions)[0], (typeof sessions)[0], (typeof sessions)[0]];
  const events: string[] = [];
  for (const s of sessions) {
    s.on('stopped', ({ reason }) => events.push(`${s.selfId} stopped ${reason}`));
    s.on('rejoining', ({ reason }) => events.push(`${s.selfId} rejoining ${reason.code}`));
  }
  await n.advance(500);
  a.start({ seed: 1 });
  await n.advance(2000);
  n.block('b', 'c');
  await n.advance(20_000);
  expect(events.sort()).toEqual(['b rejoining dropped', 'c rejoining dropped']);
  n.unblock('b', 'c');
  await n.advance(20_000);
  expect([...a.players].sort()).toEqual(['a', 'b', 'c']);
  expect(sessions.map((s) => s.status)).toEqual(['running', 'running', 'running']);
  const to = Math.min(a.frame, b.frame, c.frame);
  expect(expectAgreement(sessions, to - 200, to)).toBeGreaterThan(15);
});
