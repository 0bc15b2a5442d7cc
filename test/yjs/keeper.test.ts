import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { KeeperOptions } from '../../src/yjs/keeper/keeper.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { CATALOG_CHANNEL, encodeAnnounce } from '../../src/yjs/catalog.js';
import { YjsTag, encodeUpdate } from '../../src/yjs/protocol.js';
import { waitFor } from '../support/net.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { MeshpartyError } from '../../src/util/errors.js';
import { FakeHub } from './fake-room.js';
import { keepRoomR, newKeeperDir, removeKeeperDirs } from './support/keeper-dir.js';

const quiet = () => {};
afterEach(removeKeeperDirs);

/** An author's two edits, 'a' then 'b' after it: the second depends on the first. */
function twoEdits(): Uint8Array[] {
  const author = new Y.Doc();
  const edits: Uint8Array[] = [];
  author.on('update', (u: Uint8Array) => edits.push(u));
  author.getText('t').insert(0, 'a');
  author.getText('t').insert(1, 'b');
  return edits;
}

/** A keeper restarted on `dir` kept the edit it held back: with `first` its `n` reads 'ab'. */
async function expectHeldBackKept(dir: string, hub: FakeHub, first: Uint8Array): Promise<void> {
  const again = await keepRoomR(dir, () => hub.join('keeper2'));
  const doc = again.docs('r').get('n')!;
  Y.applyUpdate(doc, first);
  expect(doc.getText('t').toString()).toBe('ab');
  await again.close();
}

describe('keeper (fake room)', () => {
  it('learns documents from announcements, keeps them across its restart, and serves a peer that is alone', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const keeper = await keepRoomR(dir, () => hub.join('keeper'));
    const alice = hub.join('alice');
    const doc = new Y.Doc();
    const p = createYjsProvider(alice, doc, { name: 'notes', log: quiet });
    doc.getText('t').insert(0, 'remember me');
    await waitFor(() => keeper.docs('r').get('notes')?.getText('t').toString() === 'remember me', 'keeper has the doc');
    p.destroy();
    await alice.leave();
    await keeper.close();
    await hub.rooms.get('keeper')?.leave();

    const keeper2 = await keepRoomR(dir, () => hub.join('keeper2'));
    expect(keeper2.docs('r').get('notes')?.getText('t').toString()).toBe('remember me');
    const bob = hub.join('bob');
    const doc2 = new Y.Doc();
    const p2 = createYjsProvider(bob, doc2, { name: 'notes', log: quiet });
    await waitFor(() => p2.synced, 'bob synced with the keeper');
    expect(doc2.getText('t').toString()).toBe('remember me');
    expect(p2.awareness.getStates().size).toBe(1); // the keeper has no presence
    p2.destroy();
    await keeper2.close();
  });

  it('stores an edit Yjs holds back (its author had seen one the keeper has not): it is there after a restart', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const keeper = await keepRoomR(dir, () => hub.join('keeper'));
    const alice = hub.join('alice');
    const bob = hub.join('bob');
    const [da, db] = [new Y.Doc(), new Y.Doc()];
    const pa = createYjsProvider(alice, da, { name: 'n', log: quiet });
    const pb = createYjsProvider(bob, db, { name: 'n', log: quiet });
    await waitFor(() => pa.synced && pb.synced && keeper.docs('r').has('n'), 'everyone synced');
    // Bob and the keeper cannot reach each other (no route between them); Alice reaches both.
    hub.rooms.get('keeper')!.removePeer('bob');
    bob.removePeer('keeper');
    let bobsEdit: Uint8Array | undefined;
    db.once('update', (u: Uint8Array) => (bobsEdit = u));
    db.getText('t').insert(0, 'hello');
    await waitFor(() => da.getText('t').toString() === 'hello', 'alice has bob’s edit');
    da.getText('t').insert(5, ' world'); // depends on bob's edit, which the keeper lacks
    const kept = keeper.docs('r').get('n')!;
    await waitFor(() => kept.store.pendingStructs !== null, 'the keeper holds alice’s edit back');
    pa.destroy();
    pb.destroy();
    await Promise.all([alice.leave(), bob.leave()]);
    await keeper.close();

    const keeper2 = await keepRoomR(dir, () => hub.join('keeper2'));
    const doc = keeper2.docs('r').get('n')!;
    Y.applyUpdate(doc, bobsEdit!); // bob comes back one day with his edit
    expect(doc.getText('t').toString()).toBe('hello world');
    await keeper2.close();
  });

  it('stores only what it applied while it holds an edit back: not an update it dropped as over its limits', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const keeper = await keepRoomR(dir, () => hub.join('keeper'), { limits: { maxUpdateBytes: 200 } });
    const peer = hub.join('peer');
    await peer.channel(CATALOG_CHANNEL).send('keeper', encodeAnnounce(['n']));
    await waitFor(() => keeper.docs('r').has('n'), 'the keeper keeps n');
    const edits = twoEdits();
    const send = (u: Uint8Array) => peer.channel('yjs:n').send('keeper', encodeUpdate(YjsTag.Update, u));
    await send(edits[1]!); // depends on the first: held back
    await waitFor(() => keeper.docs('r').get('n')!.store.pendingStructs !== null, 'held back');
    const big = new Y.Doc();
    big.getText('t').insert(0, 'x'.repeat(500));
    await send(Y.encodeStateAsUpdate(big)); // over maxUpdateBytes: dropped, never applied (delivered once send resolves)
    expect(keeper.docs('r').get('n')!.getText('t').toString()).toBe('');
    await keeper.close();
    await expectHeldBackKept(dir, hub, edits[0]!);
  });

  it('stores a forwarded edit it holds back (passed on by a peer connected to its author): it is there after a restart', async () => {
    // The author cannot connect to the keeper; a common neighbour passes its edits on as
    // forwardedUpdate. One that depends on an edit the keeper has not got yet is held back.
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const keeper = await keepRoomR(dir, () => hub.join('keeper'));
    const forwarder = hub.join('forwarder');
    await forwarder.channel(CATALOG_CHANNEL).send('keeper', encodeAnnounce(['n']));
    await waitFor(() => keeper.docs('r').has('n'), 'the keeper keeps n');
    const edits = twoEdits();
    await forwarder.channel('yjs:n').send('keeper', encodeUpdate(YjsTag.ForwardedUpdate, edits[1]!));
    await waitFor(() => keeper.docs('r').get('n')!.store.pendingStructs !== null, 'held back');
    await keeper.close();
    await expectHeldBackKept(dir, hub, edits[0]!);
  });

  it('says so when a room it keeps closes for good (a relay refusal on rejoining), naming the refusal', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const room = hub.join('keeper');
    const logs: string[] = [];
    const keeper = await keepRoomR(dir, () => room, { log: (m) => logs.push(m) });
    // What a room does when the relay refuses its rejoin for good: an error, then closed.
    room.events.emit('error', new MeshpartyError('room-full', 'relay refused to join room "r": the room is full'));
    (room as { status: string }).status = 'closed';
    room.events.emit('status', 'closed');
    expect(logs.filter((m) => m.includes('closed for good'))).toEqual([
      'room r closed for good (room-full: relay refused to join room "r": the room is full): its documents are no longer served nor kept from peers; restart the keeper to rejoin it',
    ]);
    await keeper.close();
    expect(logs.filter((m) => m.includes('closed for good'))).toHaveLength(1); // not for its own close
  });

  it('survives garbage on the catalog and document channels', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const logs: string[] = [];
    const keeper = await keepRoomR(dir, () => hub.join('keeper'), { log: (m) => logs.push(m) });
    const evil = hub.join('evil');
    await evil.channel(CATALOG_CHANNEL).send('keeper', new Uint8Array([5, 200, 1]));
    const good = hub.join('good');
    const p = createYjsProvider(good, new Y.Doc(), { name: 'd', log: quiet });
    await waitFor(() => keeper.docs('r').has('d'), 'keeper keeps d');
    await evil.channel('yjs:d').send('keeper', new Uint8Array([2, 10, 1, 2, 3]));
    await evil.channel('yjs:d').send('keeper', new Uint8Array([99]));
    await waitFor(() => logs.filter((l) => l.includes('dropped')).length >= 3, 'drops logged');
    p.doc.getText('t').insert(0, 'still fine');
    await waitFor(() => keeper.docs('r').get('d')?.getText('t').toString() === 'still fine', 'keeper still works');
    p.destroy();
    await keeper.close();
  });
});

describe('keeper: documents over the provider default of 64 MiB, in a room that carries them', () => {
  const BIG = 65 * 1024 * 1024;
  const keepsBig = async (options: Partial<KeeperOptions>) => {
    const dir = newKeeperDir();
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 1, clock, latencyMs: 5, mesh: { logger: silentLogger(), maxMessageBytes: 128 * 1024 * 1024 } });
    const logs: string[] = [];
    const keeper = await keepRoomR(dir, (room) => net.join(room, { peerId: 'keeper' }), { clock, log: (m) => logs.push(m), ...options });
    const a = net.join('r', { peerId: 'a' });
    const doc = new Y.Doc();
    const p = createYjsProvider(a, doc, { name: 'big', clock, log: quiet, limits: { maxUpdateBytes: 128 * 1024 * 1024 } });
    await net.advance(1000);
    doc.getText('t').insert(0, 'x'.repeat(BIG));
    await net.advance(1000);
    const kept = keeper.docs('r').get('big')?.getText('t').length;
    p.destroy();
    await a.leave();
    await keeper.close();
    return { kept, dropped: logs.filter((m) => m.includes('dropped a message')) };
  };

  it('keeps one with limits.maxUpdateBytes raised', async () => {
    expect(await keepsBig({ limits: { maxUpdateBytes: 128 * 1024 * 1024 } })).toEqual({ kept: BIG, dropped: [] });
  }, 30_000);

  it('keeps one when maxMessageBytes is raised (the default of maxUpdateBytes)', async () => {
    expect(await keepsBig({ maxMessageBytes: 128 * 1024 * 1024 })).toEqual({ kept: BIG, dropped: [] });
  }, 30_000);

  it('stores one it holds back (its author\'s earlier edit missing): it is there after a restart', async () => {
    const dir = newKeeperDir();
    const hub = new FakeHub();
    const keeper = await keepRoomR(dir, () => hub.join('keeper'), { limits: { maxUpdateBytes: 128 * 1024 * 1024 } });
    const peer = hub.join('peer');
    await peer.channel(CATALOG_CHANNEL).send('keeper', encodeAnnounce(['big']));
    await waitFor(() => keeper.docs('r').has('big'), 'the keeper keeps big');
    const author = new Y.Doc();
    const edits: Uint8Array[] = [];
    author.on('update', (u: Uint8Array) => edits.push(u));
    author.getText('t').insert(0, 'a');
    author.getMap('m').set('blob', new Uint8Array(BIG));
    await peer.channel('yjs:big').send('keeper', encodeUpdate(YjsTag.Update, edits[1]!)); // held back: the 'a' is missing
    expect(keeper.docs('r').get('big')!.store.pendingStructs).not.toBeNull();
    await keeper.close();
    const again = await keepRoomR(dir, () => hub.join('keeper2'));
    const doc = again.docs('r').get('big')!;
    Y.applyUpdate(doc, edits[0]!);
    expect((doc.getMap('m').get('blob') as Uint8Array | undefined)?.length).toBe(BIG);
    await again.close();
  }, 30_000);
});
