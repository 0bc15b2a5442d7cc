/**
 * A player leaving just after the coordinator proposed a player's late join, before it sent
 * an input for the join frame: the joiner, before its snapshot, holds the leaver's stream
 * from its join frame and reports `next` = that frame with no inputs. Counted, that report
 * put the drop frame past a gap nobody could fill: every player stalled below the join
 * frame for good, and the joiner's snapshot waited for a frame past the stall.
 * Players only, on the in-memory network (found by the spectator fuzz, seeds 607 and 609).
 */
import { expect, it } from 'vitest';
import { DropAgreement } from '../../src/lockstep/drop-agreement.js';
import { advanceUntil, connect, expectAgreement, net, walk } from './support/memory-sessions.js';

it('a player leaving as another joins late is dropped below the join frame, and nobody freezes', async () => {
  const n = net(607);
  const logs: string[] = [];
  const rooms = await connect(n, ['a', 'b', 'c', 'w']);
  const [a, b, c] = rooms.slice(0, 3).map((r, i) => walk(r, n, i, {}, logs));
  await n.advance(200);
  a!.start({ seed: 607, players: ['a', 'b', 'c'] });
  await advanceUntil(n, () => a!.frame >= 120, 10_000);
  // b's report on c reaches a after w's (c to b 20 ms, b to a 80 ms; c to a, a to w, w to a 60 ms).
  n.setLink('a', 'b', { latencyMs: 80, jitterMs: 0 });
  const w = walk(rooms[3]!, n, 3, {}, logs);
  await advanceUntil(n, () => w.status === 'joining', 5_000, 5);
  expect(w.status).toBe('joining');
  c!.leave();
  await n.advance(3_000);
  const frozenAt = a!.frame;
  await n.advance(2_000);
  // Without the fix: a, b and w stall for good at c's last input (w never gets its snapshot).
  for (const s of [a!, b!, w]) expect(s.frame, `${s.selfId} at ${s.frame}`).toBeGreaterThan(frozenAt + 100);
  expect(w.status).toBe('running');
  expect([...a!.players].sort()).toEqual(['a', 'b', 'w']);
  expect([...w.players].sort()).toEqual(['a', 'b', 'w']);
  expect(expectAgreement([a!, b!, w], a!.frame - 200, Math.min(a!.frame, b!.frame, w.frame) - 5)).toBeGreaterThan(10);
});

it("a report not yet computing raises the drop frame only where its inputs reach down to the players'", () => {
  const inputs = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => Uint8Array.of(from + i));
  const agree = (joiner: { next: number; base: number; inputs: Uint8Array[] }) => {
    const d = new DropAgreement('c');
    d.add('a', { next: 130, base: 120, inputs: inputs(120, 130) });
    d.add('b', { next: 128, base: 120, inputs: inputs(120, 128) });
    d.add('w', joiner);
    return d.decide(['a', 'b']);
  };
  // No input of the leaver yet, its stream starting at its join frame 136: was atFrame 136 and no decision.
  expect(agree({ next: 136, base: 136, inputs: [] })).toMatchObject({ atFrame: 130, base: 128 });
  // Inputs from its join frame 129 on, past the players': they count (it may step them once its snapshot comes).
  const d = agree({ next: 140, base: 129, inputs: inputs(129, 140) });
  expect(d).toMatchObject({ atFrame: 140, base: 128 });
  expect(d!.inputs.map((b) => b[0])).toEqual([128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139]);
});
