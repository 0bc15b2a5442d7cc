import { describe, expect, it } from 'vitest';
import { EmptyDocs } from '../../src/yjs/keeper/empty-docs.js';

describe('EmptyDocs (the keeper’s empty documents, by announcing peer)', () => {
  it('at the cap drops the oldest name of the peer that announced the most, not a quieter peer’s', () => {
    const empty = new EmptyDocs(3);
    expect(empty.add('mine', 'good')).toEqual([]);
    expect(empty.add('j1', 'evil')).toEqual([]);
    expect(empty.add('j2', 'evil')).toEqual([]);
    expect(empty.add('j3', 'evil')).toEqual(['j1']);
    expect(empty.add('j4', 'evil')).toEqual(['j2']);
    expect(empty.has('mine')).toBe(true);
    expect(empty.size).toBe(3);
  });

  it('keeps a name another peer announced too; the loud peer only stops counting for it', () => {
    const empty = new EmptyDocs(2);
    empty.add('shared', 'evil');
    empty.add('shared', 'good');
    empty.add('j1', 'evil');
    // evil holds 2 (shared, j1): its oldest, shared, is good's too, so j1 goes instead.
    expect(empty.add('j2', 'evil')).toEqual(['j1']);
    expect(empty.has('shared')).toBe(true);
  });

  it('drops what only a peer that left announced; delete() forgets a name that got content', () => {
    const empty = new EmptyDocs(10);
    empty.add('a', 'p');
    empty.add('b', 'p');
    empty.add('b', 'q');
    empty.add('c', 'p');
    empty.delete('c');
    expect(empty.peerLeft('p')).toEqual(['a']);
    expect(empty.peerLeft('q')).toEqual(['b']);
    expect(empty.size).toBe(0);
  });
});
