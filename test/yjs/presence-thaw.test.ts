/**
 * Presence after this page's timers stalled for longer than y-protocols' 30 s timeout (a
 * background tab the browser froze, a laptop asleep). y-protocols' own check ran first
 * after the thaw and dropped every peer's presence, which came back a moment later with
 * the renewals the peers had sent meanwhile: names and cursors blinked out. A stall is
 * simulated here: the provider's clock jumps without its timers running, and the wall-time
 * stamps of the states age by as much (y-protocols reads Date.now, which a test cannot move
 * for it, so the stamps are moved back instead).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider, type MeshpartyProvider } from '../../src/yjs/provider.js';
import { waitFor } from '../support/net.js';
import { FakeHub } from './fake-room.js';
import { StallableClock, age } from './support/thaw.js';

const quiet = () => {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const opened: MeshpartyProvider[] = [];
afterEach(() => {
  for (const p of opened.splice(0)) p.destroy();
});

describe('yjs presence after a long freeze', () => {
  it("keeps connected peers' presence through a 60 s stall, still drops it when they stay silent, and drops a peer that left at once", async () => {
    const hub = new FakeHub();
    const a = hub.join('a');
    const b = hub.join('b');
    const c = hub.join('c');
    const clock = new StallableClock();
    const [docA, docB, docC] = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
    const pa = createYjsProvider(a, docA, { name: 'd', log: quiet, clock });
    const pb = createYjsProvider(b, docB, { name: 'd', log: quiet });
    const pc = createYjsProvider(c, docC, { name: 'd', log: quiet });
    opened.push(pa, pb, pc);
    pb.awareness.setLocalStateField('user', { name: 'Bea' });
    pc.awareness.setLocalStateField('user', { name: 'Cy' });
    const [bId, cId] = [docB.clientID, docC.clientID];
    await waitFor(() => pa.awareness.getStates().size === 3, 'presence of b and c at a');
    const timedOut: number[] = [];
    pa.awareness.on('change', ({ removed }: { removed: number[] }, origin: unknown) => {
      if (origin === 'timeout') timedOut.push(...removed);
    });

    // a is frozen for 60 s; b and c stay connected (their renewals wait to be read).
    clock.stall(60_000);
    age(pa.awareness, 60_000);
    // The thaw: the first check, overdue, runs first. And long enough in real time for
    // y-protocols' own check (every 3 s on the platform's timers), were it still running.
    clock.manual.advance(3000);
    await sleep(3200);
    expect(timedOut).toEqual([]);
    expect(pa.awareness.getStates().get(bId)).toEqual({ user: { name: 'Bea' } });
    expect(pa.awareness.getStates().get(cId)).toEqual({ user: { name: 'Cy' } });

    // c left while a was asleep: gone as soon as a's room says so, not 30 s later.
    a.removePeer('c');
    expect(pa.awareness.getStates().has(cId)).toBe(false);

    // b stays connected but never renews its state: the timeout still applies, 30 s after the thaw.
    clock.manual.advance(24_000);
    expect(pa.awareness.getStates().has(bId)).toBe(true);
    age(pa.awareness, 30_000);
    clock.manual.advance(3000);
    expect(timedOut).toEqual([bId]);
    expect(pa.awareness.getStates().has(bId)).toBe(false);
  }, 20_000);

  it('times out a peer whose presence is 30 s old without a stall, as y-protocols does', async () => {
    const hub = new FakeHub();
    const [a, b] = ['a', 'b'].map((id) => hub.join(id));
    const clock = new ManualClock();
    const [docA, docB] = [new Y.Doc(), new Y.Doc()];
    const pa = createYjsProvider(a!, docA, { name: 'd', log: quiet, clock });
    const pb = createYjsProvider(b!, docB, { name: 'd', log: quiet });
    opened.push(pa, pb);
    pb.awareness.setLocalStateField('user', { name: 'Bea' });
    await waitFor(() => pa.awareness.getStates().has(docB.clientID), 'presence of b at a');
    age(pa.awareness, 30_000);
    clock.advance(3000);
    expect(pa.awareness.getStates().has(docB.clientID)).toBe(false);
    // Our own state, 30 s old, was renewed instead (and sent to b).
    expect(pa.awareness.getLocalState()).toEqual({});
    expect(Date.now() - pa.awareness.meta.get(docA.clientID)!.lastUpdated).toBeLessThan(1000);
  });

  it('leaves no platform interval behind when a provider destroys its own Awareness and an app listener on it throws', () => {
    // The provider's own Awareness is destroyed with it: handing it back to y-protocols'
    // interval first would leave that interval to Awareness.destroy(), which never gets to
    // clear it when an app's 'change' listener throws (its UI already torn down): a 3 s
    // interval for good, holding the Awareness and its doc.
    const set = vi.spyOn(globalThis, 'setInterval');
    const clear = vi.spyOn(globalThis, 'clearInterval');
    try {
      const hub = new FakeHub();
      const p = createYjsProvider(hub.join('a'), new Y.Doc(), { name: 'd', log: quiet, clock: new ManualClock() });
      p.awareness.setLocalStateField('user', { name: 'Ada' });
      p.awareness.on('change', () => {
        throw new Error('the UI is gone');
      });
      p.destroy();
      const cleared = new Set(clear.mock.calls.map(([h]) => h));
      const live = set.mock.results.map((r) => r.value as unknown).filter((h) => !cleared.has(h as Parameters<typeof clearInterval>[0]));
      for (const h of live) clearInterval(h as Parameters<typeof clearInterval>[0]);
      expect(live).toEqual([]);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it('stops when its doc is destroyed, even if an app listener on its own Awareness throws then', async () => {
    // doc.destroy() runs the Awareness's own destroy first (y-protocols listens to the doc
    // before the provider could), and a 'change' listener throwing there ended doc.destroy()
    // before the provider's listener on the doc ran: it stayed in the room, serving the
    // destroyed doc to peers that join.
    const hub = new FakeHub();
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'hi');
    const p = createYjsProvider(hub.join('a'), doc, { name: 'd', log: quiet, clock: new ManualClock() });
    p.awareness.setLocalStateField('user', { name: 'Ada' });
    p.awareness.on('change', () => {
      throw new Error('the UI is gone');
    });
    try {
      doc.destroy(); // the app's throw comes out of y-protocols' Awareness.destroy()
    } catch {
      // not the provider's to catch
    }
    const docB = new Y.Doc();
    opened.push(createYjsProvider(hub.join('b'), docB, { name: 'd', log: quiet }));
    await sleep(100);
    expect(docB.getText('t').toString()).toBe('');
  });

  it("moves the shared check to a remaining provider's clock when the provider whose clock ran it is destroyed", async () => {
    const hub = new FakeHub();
    const [a, b] = ['a', 'b'].map((id) => hub.join(id));
    const [docA, docB] = [new Y.Doc(), new Y.Doc()];
    const awareness = new Awareness(docA);
    const [first, second] = [new ManualClock(), new ManualClock()];
    const one = createYjsProvider(a!, docA, { name: 'one', log: quiet, clock: first, awareness });
    const two = createYjsProvider(a!, docA, { name: 'two', log: quiet, clock: second, awareness });
    const pb = createYjsProvider(b!, docB, { name: 'two', log: quiet });
    opened.push(two, pb);
    pb.awareness.setLocalStateField('user', { name: 'Bea' });
    await waitFor(() => awareness.getStates().has(docB.clientID), 'presence of b at a');
    one.destroy(); // its clock is nobody's to drive any more
    expect(first.pending).toBe(0);
    age(awareness, 30_000);
    second.advance(3000);
    expect(awareness.getStates().has(docB.clientID)).toBe(false);
    two.destroy();
    awareness.destroy();
  });

  it("hands an app's Awareness back to y-protocols' own check once the last provider on it is destroyed", async () => {
    const hub = new FakeHub();
    const a = hub.join('a');
    const doc = new Y.Doc();
    const clock = new ManualClock();
    const first = createYjsProvider(a, doc, { name: 'one', log: quiet, clock });
    const second = createYjsProvider(a, doc, { name: 'two', log: quiet, clock, awareness: first.awareness });
    expect(clock.pending).toBe(1); // one check for the Awareness, whatever the providers on it
    second.destroy();
    expect(clock.pending).toBe(1);
    const awareness = new Awareness(doc);
    const third = createYjsProvider(a, doc, { name: 'three', log: quiet, clock, awareness });
    expect(clock.pending).toBe(2);
    // The platform's interval faked (Date.now is not), so that its check can be run here.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      third.destroy(); // the app's Awareness lives on, checked on the platform's timers again
      expect(clock.pending).toBe(1);
      // A remote state not renewed for 30 s times out at the next platform check.
      awareness.states.set(42, { user: 'gone' });
      awareness.meta.set(42, { clock: 1, lastUpdated: Date.now() - 30_000 });
      vi.advanceTimersByTime(3000);
      expect(awareness.states.has(42)).toBe(false);
      awareness.destroy();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    first.destroy(); // its own Awareness: destroyed, no check left
    expect(clock.pending).toBe(0);
  });
});
