/**
 * Presence passed on by a forwarder is queued per sender and set of clients: a newer
 * message for the same clients replaces one still waiting, but never one for other
 * clients. Keyed by sender alone, a peer that renamed itself and switched documents in one
 * go had its old client's goodbye replaced by its new client's presence while the rename
 * was in flight, and the far peer showed the old presence (a ghost cursor) for as long as
 * the forwarder stayed, one more for each such switch.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider, type MeshpartyProvider } from '../../src/yjs/provider.js';

const users = (p: MeshpartyProvider) =>
  [...p.awareness.getStates().values()].map((st) => (st as { user?: string }).user).filter(Boolean).sort();

describe('presence passed on by a forwarder', () => {
  it("a peer that renames itself and reopens its document in one go: its old client's goodbye still reaches the far peer", async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 3, clock, latencyMs: 5, mesh: { logger: silentLogger() } });
    net.block('b', 'k'); // a passes b's presence on to k
    const [a, b, k] = ['a', 'b', 'k'].map((id) => net.join('r', { peerId: id }));
    const open = (room: typeof a, user: string) => {
      const p = createYjsProvider(room!, new Y.Doc(), { name: 'd', clock, log: () => {} });
      p.awareness.setLocalStateField('user', user);
      return p;
    };
    const pa = open(a, 'ada');
    const pk = open(k, 'kim');
    let pb = open(b, 'bea');
    await net.advance(5000); // a pair is forwarded once it has looked unconnected for 3 s
    expect(users(pk)).toEqual(['ada', 'bea', 'kim']);
    const oldClient = pb.awareness.clientID;

    pb.awareness.setLocalStateField('user', 'bea (away)'); // in flight from a to k when the rest arrives
    pb.destroy(); // its goodbye: the old client is gone
    pb = open(b, 'bea, in another document'); // a new client
    await net.advance(1000);
    expect(users(pk)).toEqual(['ada', 'bea, in another document', 'kim']);
    expect(pk.awareness.meta.has(oldClient)).toBe(false);

    await b!.leave();
    await net.advance(1000);
    expect(users(pk)).toEqual(['ada', 'kim']);
    expect(pk.awareness.meta.size).toBe(2); // its own and a's: nothing of b's clients is kept
    pa.destroy();
    pk.destroy();
    await Promise.all([a!.leave(), k!.leave()]);
  });
});
