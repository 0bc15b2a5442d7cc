/**
 * The keeper's `limits` (the provider's size limits for what peers send) are checked when
 * it starts, not at each document: a bad one would have every document refused by its
 * provider, the keeper running on and keeping nothing. `maxUpdateBytes` follows
 * `maxMessageBytes` unless it is given (undefined is not given). So are the storage
 * options, which a typo would otherwise turn off without a word.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { waitFor } from '../support/net.js';
import { FakeHub } from './fake-room.js';
import { keepRoomR, newKeeperDir, readKeeperDir, removeKeeperDirs, seedKeeperDir } from './support/keeper-dir.js';

const quiet = () => {};
afterEach(removeKeeperDirs);

describe('keeper limits', () => {
  it('a bad limit or maxMessageBytes is bad-argument at startup, the directory left free', async () => {
    const dir = newKeeperDir();
    await seedKeeperDir(dir, { r: { notes: 'stored' } });
    const join = () => new FakeHub().join('keeper');
    for (const bad of [{ limits: { maxUpdateBytes: Number.NaN } }, { limits: { maxAwarenessBytes: 0 } }, { limits: 'big' as never }, { maxMessageBytes: 1.5 }]) {
      await expect(keepRoomR(dir, join, bad), JSON.stringify(bad)).rejects.toMatchObject({ code: 'bad-argument' });
    }
    expect(await readKeeperDir(dir, ['r'])).toEqual({ r: { notes: 'stored' } });
  });

  it('an fsync policy it does not know or a compactBytes that is not a whole number >= 1 is bad-argument', async () => {
    const dir = newKeeperDir();
    const join = () => new FakeHub().join('keeper');
    // 'Always' ran without any fsync, and a NaN or string threshold never compacted.
    for (const bad of [{ fsync: 'Always' as never }, { compactBytes: Number.NaN }, { compactBytes: '4MB' as never }, { compactBytes: 0 }]) {
      await expect(keepRoomR(dir, join, bad), JSON.stringify(bad)).rejects.toMatchObject({ code: 'bad-argument' });
    }
    const keeper = await keepRoomR(dir, join, { fsync: 'always', compactBytes: 1024 });
    await keeper.close();
  });

  it('maxUpdateBytes given as undefined still follows maxMessageBytes', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const keeper = await keepRoomR(dir, () => hub.join('keeper'), { maxMessageBytes: 1000, limits: { maxUpdateBytes: undefined } });
    const writer = hub.join('writer');
    const small = createYjsProvider(writer, new Y.Doc(), { name: 'small', log: quiet });
    small.doc.getText('t').insert(0, 'fits');
    await waitFor(() => keeper.docs('r').get('small')?.getText('t').toString() === 'fits', 'the keeper has small');
    const big = createYjsProvider(writer, new Y.Doc(), { name: 'big', log: quiet });
    await waitFor(() => keeper.docs('r').has('big'), 'the keeper syncs big');
    big.doc.getText('t').insert(0, 'x'.repeat(2000)); // an update over maxMessageBytes
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(keeper.docs('r').get('big')?.getText('t').toString() ?? '').toBe('');
    await keeper.close();
  });
});
