/**
 * keeper.close() twice (a SIGTERM handler and the app's own shutdown path): the second
 * call must not resolve before the first has left the rooms and released the directory's
 * lock. Leaving drains what is still queued to each peer first (up to farewellDrainMs, 5 s
 * by default), so a caller that exits once its close() resolves would cut the drain and
 * leave the lock behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Room } from '../../src/mesh/types.js';
import { FakeHub } from './fake-room.js';
import { keepRoomR, newKeeperDir, removeKeeperDirs } from './support/keeper-dir.js';

afterEach(removeKeeperDirs);

/** `room` whose leave() waits until `finish()` is called (a drain still under way). */
function slowToLeave(room: Room): { room: Room; finish: () => void } {
  let finish = () => {};
  const drained = new Promise<void>((resolve) => (finish = resolve));
  const slow = new Proxy(room, {
    get(target, key) {
      if (key === 'leave') return () => drained.then(() => target.leave());
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { room: slow, finish };
}

describe('keeper.close() called twice', () => {
  it('the second call resolves only once the first has left the rooms and released the lock', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const { room, finish } = slowToLeave(hub.join('keeper'));
    const keeper = await keepRoomR(dir, () => room);
    const settled: string[] = [];
    const first = keeper.close().then(() => settled.push('first'));
    const second = keeper.close().then(() => settled.push('second'));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(settled).toEqual([]); // the room is still being left
    // What an app does once close() resolves: start again in the same directory.
    finish();
    await Promise.all([first, second]);
    expect(settled.sort()).toEqual(['first', 'second']);
    const again = await keepRoomR(dir, () => hub.join('keeper2'));
    await again.close();
  });

  it("a second call returns the first call's promise", async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const keeper = await keepRoomR(dir, () => hub.join('keeper'));
    const first = keeper.close();
    expect(keeper.close()).toBe(first);
    await first;
  });
});
