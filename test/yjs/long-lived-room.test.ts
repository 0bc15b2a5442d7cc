/**
 * A room left open for days while others come and go: what the long-lived members hold
 * must be back to what their current peers need once the visitors are gone, however they
 * went (goodbye, crash, relay kick, a document closed and opened again under a new name
 * tag), also when a visitor could reach one member only through the other (forwarding).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider, type MeshpartyProvider } from '../../src/yjs/provider.js';

/** `room` with its live subscriptions counted (each on() not yet unsubscribed). */
function counted(room: Room): { room: Room; live: () => number } {
  let live = 0;
  const proxy = new Proxy(room, {
    get(target, key) {
      if (key === 'on') {
        return (event: Parameters<Room['on']>[0], listener: Parameters<Room['on']>[1]) => {
          const off = target.on(event, listener);
          live++;
          let done = false;
          return () => {
            if (!done) live--;
            done = true;
            off();
          };
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { room: proxy, live: () => live };
}

const users = (p: MeshpartyProvider) => [...p.awareness.getStates().values()].map((s) => (s as { user?: string }).user).sort();

describe('a room that stays open while visitors come and go', () => {
  it('300 visitors later, the two long-lived members hold only each other (presence, peers, blocks, timers, listeners)', async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 5, clock, latencyMs: 5, mesh: { logger: silentLogger() } });
    const a = counted(net.join('r', { peerId: 'm' }));
    const k = net.join('r', { peerId: 'k' });
    await net.advance(1000);
    const open = (room: Room, user: string) => {
      const p = createYjsProvider(room, new Y.Doc(), { name: 'd', clock, log: () => {} });
      p.awareness.setLocalStateField('user', user);
      return p;
    };
    const pa = open(a.room, 'm');
    const pk = open(k, 'k');
    await net.advance(1000);
    const baseline = { pending: clock.pending, listeners: a.live() };
    expect(users(pk)).toEqual(['k', 'm']);

    for (let i = 0; i < 300; i++) {
      const id = `${i % 2 ? 'a' : 'z'}${i}`; // below and above both members
      const blocked = i % 3 === 0; // reaches k only through m, which passes it on
      if (blocked) net.block(id, 'k');
      const room = net.join('r', { peerId: id });
      await net.advance(300);
      let p = open(room, id);
      p.doc.getText('t').insert(0, 'x');
      await net.advance(4000); // a blocked pair is forwarded once it has looked apart for 3 s
      // Renamed and the document closed and opened again at once, twice.
      for (const again of [1, 2]) {
        p.awareness.setLocalStateField('user', `${id} (away)`);
        p.destroy();
        p = open(room, `${id}#${again}`);
        await net.advance(500);
      }
      const how = i % 4;
      if (how === 0) await room.leave();
      else if (how === 1) {
        net.disconnect(id); // crashes: no goodbye
        await net.advance(20_000);
        void room.leave();
      } else if (how === 2) {
        net.relay.kick(id); // the relay drops it, then it goes
        await net.advance(50);
        await room.leave();
      } else {
        p.destroy(); // closes the document, then leaves
        await net.advance(100);
        await room.leave();
      }
      if (blocked) net.unblock(id, 'k');
      await net.advance(100);
    }
    await net.advance(60_000);

    expect([...a.room.peers.keys()]).toEqual(['k']);
    expect([...pa.peers.keys()]).toEqual(['k']);
    expect(pa.doc.getText('t').length).toBe(300); // every visitor's edit arrived
    expect(pk.doc.getText('t').length).toBe(300);
    for (const p of [pa, pk]) {
      expect(users(p)).toEqual(['k', 'm']);
      expect(p.awareness.meta.size).toBe(2);
      expect(p.blockCounts).toEqual({ striking: 0, blocked: 0, departed: 0 });
    }
    expect(clock.pending).toBe(baseline.pending);
    expect(a.live()).toBe(baseline.listeners);

    // Documents opened and closed on the same room leave no listener on it.
    pa.destroy();
    for (let n = 0; n < 50; n++) {
      const again = open(a.room, 'm');
      await net.advance(100);
      again.destroy();
    }
    expect(a.live()).toBe(0);
    pk.destroy();
    await Promise.all([a.room.leave(), k.leave()]);
    await net.advance(1000);
    expect(clock.pending).toBe(0);
  });
});
