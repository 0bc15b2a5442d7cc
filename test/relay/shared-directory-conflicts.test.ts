/**
 * SharedDirectory when the same peer id is let in by two instances at once (a client
 * back through another instance before the news of its first membership arrived): a
 * departure announced by the instance it left is stale where another holds the id, and
 * when our member with that id goes, the id stays the other instance's member (likewise
 * between two other instances). And a member list an instance made before it heard that
 * another took one of its members over (its `sync`, its registration in Redis) does not
 * give the id back to it.
 */
import { describe, expect, it } from 'vitest';
import { SharedDirectory, type ClusterBus } from '../../signaling/cluster/shared-directory.js';
import type { DirectoryMember } from '../../signaling/room-directory.js';

/** Instance R's directory over a bus that records what it would publish. */
function instanceR() {
  const sent: string[] = [];
  const published: string[] = [];
  const bus: ClusterBus = {
    instanceId: 'R',
    up: true,
    added: (_ns, _room, id) => published.push(`add ${id}`),
    removed: (_ns, _room, id, of) => published.push(`del ${id} of ${of}`),
    broadcast: (_ns, _room, frame) => published.push(`bcast ${frame}`),
    send: (instance, _ns, _room, id) => sent.push(`${id}@${instance}`),
    note: (event) => published.push(event),
  };
  return { dir: new SharedDirectory('r', bus), sent, published };
}

function member(id: string): DirectoryMember & { got: string[] } {
  const got: string[] = [];
  return { id, deliver: (f) => got.push(f), got };
}

const left = (peerId: string): string => JSON.stringify({ type: 'peer-left', room: 'room', peerId });
const joined = (peerId: string): string => JSON.stringify({ type: 'peer-joined', room: 'room', peerId });

describe('SharedDirectory: one id let in by two instances', () => {
  it('drops a departure announced by an instance that no longer holds the id', () => {
    const { dir } = instanceR();
    const carol = member('carol');
    dir.add('room', carol);
    // x was A's, then came back through B (B's add reached us before A's announcement).
    dir.applyAdd('A', 'room', 'x', '');
    dir.applyDel('room', 'x', 'A');
    dir.applyAdd('B', 'room', 'x', '');
    dir.deliverLocal('room', left('x'), 'x', 'A');
    expect(carol.got).toEqual([]);
    // Other news about x from A, and B's own departure of x, are delivered.
    dir.deliverLocal('room', joined('x'), 'x', 'A');
    dir.deliverLocal('room', left('x'), 'x', 'B');
    expect(carol.got).toEqual([joined('x'), left('x')]);
  });

  it('drops a join announced of a peer that has left again since', () => {
    const { dir } = instanceR();
    const carol = member('carol');
    dir.add('room', carol);
    // A announces x back (B took it over) after x left B again: we no longer know x.
    dir.deliverLocal('room', joined('x'), 'x', 'A');
    expect(carol.got).toEqual([]);
    // While B holds x, the same news is delivered.
    dir.applyAdd('B', 'room', 'x', '');
    dir.deliverLocal('room', joined('x'), 'x', 'A');
    expect(carol.got).toEqual([joined('x')]);
  });

  it('drops another instance\'s news of a peer we hold: our members know it is here', () => {
    const { dir } = instanceR();
    const carol = member('carol');
    dir.add('room', carol);
    dir.add('room', member('x'));
    dir.deliverLocal('room', left('x'), 'x', 'A');
    dir.deliverLocal('room', joined('x'), 'x', 'A');
    expect(carol.got).toEqual([]);
  });

  it('passes on the join of a peer we took over before its announcement came, once', () => {
    const { dir } = instanceR();
    const carol = member('carol');
    dir.add('room', carol);
    // A let x in and told us (`add`); its `peer-joined` is on the way when x's client,
    // straight back through us, takes x over (silently: the room is meant to know x).
    dir.applyAdd('A', 'room', 'x', '', '1');
    dir.remove('room', 'x');
    dir.add('room', member('x'));
    dir.deliverLocal('room', joined('x'), 'x', 'A');
    expect(carol.got).toEqual([joined('x')]);
    // A's later news of x (it had let x go: x is back) is stale, as ever.
    dir.deliverLocal('room', joined('x'), 'x', 'A');
    expect(carol.got).toEqual([joined('x')]);
  });

  it('takes a peer over silently once its join was announced', () => {
    const { dir } = instanceR();
    const carol = member('carol');
    dir.add('room', carol);
    dir.applyAdd('A', 'room', 'x', '', '1');
    dir.deliverLocal('room', joined('x'), 'x', 'A');
    dir.remove('room', 'x');
    dir.add('room', member('x'));
    dir.deliverLocal('room', joined('x'), 'x', 'A');
    expect(carol.got).toEqual([joined('x')]);
  });

  it('keeps the id as the other instance\'s member when ours goes, and says nothing of it', () => {
    const { dir, sent, published } = instanceR();
    const carol = member('carol');
    dir.add('room', carol);
    dir.add('room', member('x'));
    dir.applyAdd('A', 'room', 'x', ''); // A let x in too: a conflict, ours kept
    expect(published).toContain('cluster-id-conflict');
    expect(dir.remove('room', 'x')).toBe(true);
    expect(dir.members('room').sort()).toEqual(['carol', 'x']);
    expect(dir.sendTo('room', 'x', 'hi')).toBe(true);
    expect(sent).toEqual(['x@A']);
    // The relay's peer-left for our x: not told to anyone, x is still in the room.
    const before = published.length;
    expect(dir.broadcast('room', left('x'), 'x')).toBe(0);
    expect(carol.got).toEqual([]);
    expect(published.slice(before)).toEqual([]);
    // A's x leaves: gone.
    dir.applyDel('room', 'x', 'A');
    expect(dir.has('room', 'x')).toBe(false);
  });

  it('forgets the other claim once that instance\'s member has gone', () => {
    const { dir } = instanceR();
    dir.add('room', member('x'));
    dir.applyAdd('A', 'room', 'x', '');
    dir.applyDel('room', 'x', 'A'); // A's x left (ours is untouched)
    expect(dir.has('room', 'x')).toBe(true);
    dir.remove('room', 'x');
    expect(dir.has('room', 'x')).toBe(false);
    // Likewise when A is gone as a whole.
    dir.add('room', member('y'));
    dir.applyAdd('A', 'room', 'y', '');
    dir.replaceInstance('A', []);
    dir.remove('room', 'y');
    expect(dir.has('room', 'y')).toBe(false);
  });
});

describe('SharedDirectory: one id let in by two other instances', () => {
  it('keeps the id as the first one\'s member when the later claim goes', () => {
    const { dir, sent } = instanceR();
    const carol = member('carol');
    dir.add('room', carol);
    // x is B's; A's claim comes later (A let it in unaware, its news delayed by an outage).
    dir.applyAdd('B', 'room', 'x', '', '1');
    dir.applyAdd('A', 'room', 'x', '', '5');
    // A's x goes (its departure announced by A): still B's, and nothing to tell carol.
    dir.applyDel('room', 'x', 'A', '5');
    dir.deliverLocal('room', left('x'), 'x', 'A');
    dir.sendTo('room', 'x', 'hi');
    expect(sent).toEqual(['x@B']);
    expect(carol.got).toEqual([]);
    // So too when A's member list no longer has it, or A is gone.
    dir.applyAdd('A', 'room', 'x', '', '6');
    dir.replaceInstance('A', []);
    expect(dir.members('room')).toEqual(['carol', 'x']);
    expect(carol.got).toEqual([]);
    // B's own departure of x is the end of it.
    dir.applyDel('room', 'x', 'B', '1');
    expect(dir.has('room', 'x')).toBe(false);
  });

  it('our member evicted by a takeover leaves the id to the other claim, which the eviction does not remove', () => {
    const { dir, published, sent } = instanceR();
    // The relay's eviction removes the member itself, as relay-protocol's takeOver does.
    const x = { ...member('x'), evicted: () => void dir.remove('room', 'x') };
    dir.add('room', x);
    dir.applyAdd('B', 'room', 'x', '', '2');
    published.length = 0;
    dir.applyDel('room', 'x', 'R', '1', 'C');
    expect(published).toEqual([]);
    dir.sendTo('room', 'x', 'hi');
    expect(sent).toEqual(['x@B']);
  });
});

describe('SharedDirectory: a member list older than a takeover', () => {
  const K = 'ab'.repeat(32);

  it('does not give the id back to the instance it was taken from', () => {
    const { dir, sent } = instanceR();
    const carol = member('carol');
    dir.add('room', carol);
    // x, A's membership 3, was taken over by B (x's client resumed there).
    dir.applyAdd('A', 'room', 'x', K, '3');
    dir.applyDel('room', 'x', 'A', '3', 'B');
    dir.applyAdd('B', 'room', 'x', K, '1');
    // A's sync, made before A heard of it, still lists x: stale.
    dir.replaceInstance('A', [['r', 'room', 'x', K, '3']]);
    dir.sendTo('room', 'x', 'hi');
    expect(sent).toEqual(['x@B']);
    // A leaves: x, B's, is still here, and carol hears nothing of it either way.
    dir.replaceInstance('A', []);
    expect(dir.members('room')).toEqual(['carol', 'x']);
    expect(carol.got).toEqual([]);
  });

  it('a newer membership of the id on that instance is taken as listed', () => {
    const { dir, sent } = instanceR();
    dir.applyAdd('A', 'room', 'x', K, '3');
    dir.applyDel('room', 'x', 'A', '3', 'B');
    // x left B unheard and came back to A (membership 4): A's list is right.
    dir.replaceInstance('A', [['r', 'room', 'x', K, '4']]);
    dir.sendTo('room', 'x', 'hi');
    expect(sent).toEqual(['x@A']);
  });

  it('the instance that took the id over does not keep the stale claim for when its member goes', () => {
    const { dir, published } = instanceR();
    dir.applyAdd('A', 'room', 'x', K, '3');
    // x's client resumes here: we take x over from A.
    expect(dir.remove('room', 'x')).toBe(true);
    dir.add('room', member('x'));
    dir.replaceInstance('A', [['r', 'room', 'x', K, '3']]);
    // Our x leaves: the id is free, not A's again.
    dir.remove('room', 'x');
    expect(dir.has('room', 'x')).toBe(false);
    expect(published).not.toContain('cluster-id-conflict');
  });
});
