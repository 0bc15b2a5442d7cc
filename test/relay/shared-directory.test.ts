/**
 * SharedDirectory, the mirror each relay cluster instance keeps, over an in-memory bus
 * (no Redis): what it publishes, what it delivers locally, evictions, conflicts, and the
 * announcements it makes when an instance's members change under it.
 */
import { describe, expect, it } from 'vitest';
import type { Namespace } from '../../signaling/cluster/messages.js';
import { SharedDirectory, type ClusterBus } from '../../signaling/cluster/shared-directory.js';
import type { DirectoryMember } from '../../signaling/room-directory.js';

/** Two instances whose buses hand every change to the other's directory at once. */
function pair(ns: Namespace = 'r') {
  const notes: string[] = [];
  const make = (instanceId: string): ClusterBus & { other?: SharedDirectory; upNow: boolean } => ({
    instanceId,
    upNow: true,
    get up() {
      return this.upNow;
    },
    added(_ns, room, id, k, n) {
      this.other!.applyAdd(instanceId, room, id, k, n);
    },
    removed(_ns, room, id, of, n) {
      this.other!.applyDel(room, id, of, n);
    },
    broadcast(_ns, room, frame, except) {
      this.other!.deliverLocal(room, frame, except, instanceId);
    },
    send(_instance, _ns, room, id, frame) {
      this.other!.deliverTo(room, id, frame);
    },
    note(event) {
      notes.push(event);
    },
  });
  const busA = make('A');
  const busB = make('B');
  const a = new SharedDirectory(ns, busA);
  const b = new SharedDirectory(ns, busB);
  busA.other = b;
  busB.other = a;
  return { a, b, busA, busB, notes };
}

function member(id: string, extra: Partial<DirectoryMember> = {}): DirectoryMember & { got: string[] } {
  const got: string[] = [];
  return { id, deliver: (f) => got.push(f), got, ...extra };
}

describe('SharedDirectory', () => {
  it('mirrors members, delivers to remote ones through the bus, and counts them', () => {
    const { a, b } = pair();
    const alice = member('alice');
    const bob = member('bob');
    expect(a.add('r', alice)).toBe(true);
    expect(b.add('r', bob)).toBe(true);
    expect(b.add('r', member('alice'))).toBe(false); // held on A
    expect(a.members('r')).toEqual(['alice', 'bob']);
    expect(b.size('r')).toBe(2);
    expect(b.sendTo('r', 'alice', 'to-alice')).toBe(true);
    expect(alice.got).toEqual(['to-alice']);
    expect(a.broadcast('r', 'all', 'alice')).toBe(1);
    expect(bob.got).toEqual(['all']);
    expect(alice.got).toEqual(['to-alice']);
    expect(a.remove('r', 'alice')).toBe(true);
    expect(b.members('r')).toEqual(['bob']);
    expect(a.roomCount()).toBe(1);
  });

  it('cut off from the bus, remote members cannot be reached and broadcasts stay local', () => {
    const { a, b, busA } = pair();
    const alice = member('alice');
    const carol = member('carol');
    a.add('r', alice);
    a.add('r', carol);
    b.add('r', member('bob'));
    busA.upNow = false;
    expect(a.sendTo('r', 'bob', 'x')).toBe(false);
    expect(a.sendTo('r', 'carol', 'local')).toBe(true);
    expect(a.broadcast('r', 'hi', 'alice')).toBe(1);
    expect(carol.got).toEqual(['local', 'hi']);
  });

  it('evicts our member when another instance removes it (a resume there)', () => {
    const { a, b } = pair();
    let evicted = 0;
    a.add('r', member('alice', { resumeKeyHash: 'ab'.repeat(32), evicted: () => evicted++ }));
    expect(b.remoteKeyHash('r', 'alice')).toBe('ab'.repeat(32));
    expect(b.remove('r', 'alice')).toBe(true);
    expect(evicted).toBe(1);
    expect(a.has('r', 'alice')).toBe(false);
    b.add('r', member('alice'));
    expect(a.members('r')).toEqual(['alice']);
    expect(a.remoteKeyHash('r', 'alice')).toBeUndefined(); // joined without a key
  });

  it('a takeover names the membership as the holder\'s member list gave it last', () => {
    // B's side only: what it asks the cluster to remove, with which membership name.
    const removed: string[] = [];
    const { busB } = pair();
    const b = new SharedDirectory('r', { ...busB, up: true, instanceId: 'B', removed: (_ns, _room, id, of, n) => removed.push(`${id} of ${of} #${n}`) });
    // Known from A's member list alone (B started, or Redis came back, after the join).
    b.replaceInstance('A', [['r', 'r', 'alice', '', '7']]);
    // Known from A's news, then from a member list: alice left and joined again unheard.
    b.applyAdd('A', 'r', 'bob', '', '1');
    b.replaceInstance('A', [
      ['r', 'r', 'alice', '', '7'],
      ['r', 'r', 'bob', '', '4'],
    ]);
    b.remove('r', 'alice');
    b.remove('r', 'bob');
    // A spares a membership a takeover does not name: these are the ones it holds.
    expect(removed).toEqual(['alice of A #7', 'bob of A #4']);
  });

  it('the departure of a membership known from a member list only (its join unheard in an outage) removes it', () => {
    const { a } = pair();
    const alice = member('alice');
    a.add('r', alice);
    // B's bob joined as membership 1; A missed his leave and his return (2), and resyncs.
    a.applyAdd('B', 'r', 'bob', '', '1');
    a.replaceInstance('B', [['r', 'r', 'bob', '', '2']]);
    // bob leaves B again: gone here too, not kept as a ghost for a later join to take over.
    a.applyDel('r', 'bob', 'B', '2');
    expect(a.has('r', 'bob')).toBe(false);
  });

  it('keeps its own member when another instance let the same id in at once', () => {
    const { a, notes } = pair();
    const alice = member('alice');
    a.add('r', alice);
    a.applyAdd('B', 'r', 'alice', '');
    expect(notes).toEqual(['cluster-id-conflict']);
    a.sendTo('r', 'alice', 'still-ours');
    expect(alice.got).toEqual(['still-ours']);
  });

  it('announces what changed when an instance is replaced or gone (rooms only)', () => {
    const { a } = pair();
    const alice = member('alice');
    a.add('r', alice);
    a.applyAdd('B', 'r', 'bob', '');
    a.applyAdd('B', 'r', 'dave', 'cd'.repeat(32));
    const dropped = a.replaceInstance('B', [
      ['r', 'r', 'bob', ''],
      ['r', 'r', 'erin', ''],
    ]);
    expect(dropped).toEqual([['r', 'r', 'dave', 'cd'.repeat(32)]]);
    expect(alice.got.map((f) => JSON.parse(f) as unknown)).toEqual([
      { type: 'peer-left', room: 'r', peerId: 'dave' },
      { type: 'peer-joined', room: 'r', peerId: 'erin' },
    ]);
    expect(a.replaceInstance('B', []).map(([, , id]) => id)).toEqual(['bob', 'erin']);
    expect(a.members('r')).toEqual(['alice']);

    const topics = pair('t').a;
    const sub = member('conn1');
    topics.add('doc', sub);
    topics.applyAdd('B', 'doc', 'conn2', '');
    topics.replaceInstance('B', []);
    expect(sub.got).toEqual([]);
    expect(topics.size('doc')).toBe(1);
  });
});
