/**
 * SharedDirectory when the same peer id is let in by two instances at once (a client
 * back through another instance before the news of its first membership arrived): a
 * departure announced by the instance it left is stale where another holds the id, and
 * when our member with that id goes, the id stays the other instance's member.
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
