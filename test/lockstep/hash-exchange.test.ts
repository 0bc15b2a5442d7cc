/**
 * HashExchange on its own (a real SessionCore over an in-memory room, no session around
 * it), so the hash book and the requestState waiters can be looked at directly.
 */
import { describe, expect, it } from 'vitest';
import { HASH_WINDOW } from '../../src/lockstep/hash-exchange.js';
import { Kind, decodeControl } from '../../src/lockstep/wire.js';
import { coreOfA } from './support/hash-core.js';
import { connect, net, walk } from './support/memory-sessions.js';

describe('the hash-check window (HASH_WINDOW)', () => {
  it("a far-behind member's hash is not judged, one within the window is; one far ahead is kept nowhere and is no bad message", async () => {
    const ours = 4000;
    const { c, hashing, logs, desyncs } = await coreOfA(91, ours);
    // We hashed these frames long ago and still wait for b's hashes (the book keeps 1200 back).
    const old = Math.floor((ours - HASH_WINDOW) / 10) * 10 - 40; // 2930: a lagging spectator's hashed frame
    const recent = ours - 10;
    c.hashes.local(old, 111, ['b']);
    c.hashes.local(recent, 111, ['b']);
    // b, far behind, sends its (different) hash of `old`: past judging, no desync.
    hashing.onHash('b', old, 222);
    expect(desyncs).toEqual([]);
    // Within the window a difference is a desync, as ever.
    hashing.onHash('b', recent, 222);
    expect(desyncs).toEqual([recent]);
    // b's hash of a frame far ahead of ours (we are the one behind): not kept, so our own
    // hash of that frame, once we get there, still waits for b's...
    const ahead = Math.ceil((ours + HASH_WINDOW) / 10) * 10 + 30; // 5060
    hashing.onHash('b', ahead, 5);
    expect(c.hashes.local(ahead, 5, ['b'])).toBeUndefined();
    // ...and not a bad message: a peer lagging a minute would otherwise ignore every player.
    expect({ bad: c.bad.get('b'), logs }).toEqual({ bad: undefined, logs: [] });
    // A frame that is not a hashed one is still malformed.
    hashing.onHash('b', ours + 5, 5);
    expect(c.bad.get('b')).toBe(1);
  });
});

describe('requestState', () => {
  it('a request that timed out leaves no waiter behind, and a later request for the same state is answered', async () => {
    const seed = 92;
    const { n, rooms, c, hashing } = await coreOfA(seed, 0, 'b'); // the generation b's start will have
    // Route answers to a's HashExchange, as the session does.
    c.ctl.on('message', ({ from, data }) => {
      const m = decodeControl(data);
      if (m.kind === Kind.stateRes) hashing.onState(from, m.frame, m.state);
    });
    // b's session is still in the lobby: it does not answer, and the request times out.
    const b = walk(rooms[1]!, n, 1);
    const timedOut = hashing.requestState('b', 0, 100);
    expect(c.stateWaiters.size).toBe(1);
    await n.advance(200);
    expect(await timedOut).toBeUndefined();
    expect(c.stateWaiters.size).toBe(0);
    // b starts (a listed as a player of that generation) and hashes frame 0: asked again, it answers.
    b.start({ seed, players: ['a', 'b'] });
    await n.advance(100);
    const again = hashing.requestState('b', 0, 1000);
    await n.advance(200);
    const state = await again;
    expect(state).toBeInstanceOf(Uint8Array);
    expect(state).toEqual(b.stateAt(0));
    expect(c.stateWaiters.size).toBe(0);
    b.leave();
  });
});
