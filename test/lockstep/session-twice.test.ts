/**
 * Two lockstep sessions on one channel prefix in one room would both take every control
 * message and input of that prefix: the second is refused (channel-in-use) before it
 * sets anything up or says hello, until the first has stopped.
 */
import { expect, it } from 'vitest';
import { connect, net, walk } from './support/memory-sessions.js';

it('a second session on the same prefix in a room is refused until the first stops; another prefix is not', async () => {
  const n = net(5);
  const [ra, rb] = await connect(n, ['a', 'b']);
  const logs: string[] = [];
  const a = walk(ra!, n, 0, {}, logs);
  const b = walk(rb!, n, 1, {}, logs);
  await n.advance(300);
  // Whatever b's session hears on the control channel from here on.
  const heard: string[] = [];
  rb!.channel('lockstep:ctl').on('message', ({ from }) => heard.push(from));
  await n.advance(2000);
  const hellosPerTwoSeconds = heard.length;
  expect(hellosPerTwoSeconds).toBeGreaterThan(0); // a repeats its lobby hello

  let refused: unknown;
  try {
    walk(ra!, n, 0, {}, logs);
  } catch (err) {
    refused = err;
  }
  expect(refused).toMatchObject({ code: 'channel-in-use', detail: { channel: 'lockstep:ctl', by: expect.stringContaining('lockstep session') } });
  // The refused one says nothing: b hears only the first session's hellos, at their rate.
  heard.length = 0;
  await n.advance(2000);
  expect(heard.length).toBeLessThanOrEqual(hellosPerTwoSeconds);

  // Another prefix is another session; the first one still plays.
  const other = walk(ra!, n, 0, { channel: 'second-game' }, logs);
  a.start({ seed: 1 });
  await n.advance(1000);
  expect(a.frame).toBeGreaterThan(20);
  expect(b.frame).toBeGreaterThan(20);

  // Once it has left, a session on the prefix is made again.
  a.leave();
  const again = walk(ra!, n, 0, {}, logs);
  expect(again.status).not.toBe('stopped');
  for (const s of [again, other, b]) s.leave();
  await Promise.all([ra!.leave(), rb!.leave()]);
});

it('a session made on a room already closed is stopped (room-closed) at once: it neither waits in the lobby nor starts', async () => {
  const n = net(6);
  const [ra] = await connect(n, ['a', 'b']);
  await ra!.leave();
  const s = walk(ra!, n, 0);
  expect(s.status).toBe('stopped');
  expect(() => s.start({ seed: 1 })).toThrow(expect.objectContaining({ code: 'already-started' }));
  await n.advance(1000);
  expect([s.status, s.frame]).toEqual(['stopped', 0]);
  // It released its channel prefix: another session on that room may be made (stopped too).
  expect(walk(ra!, n, 0).status).toBe('stopped');
});
