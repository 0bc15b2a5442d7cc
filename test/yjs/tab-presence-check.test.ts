/**
 * Tab sync takes part in the presence check of the Awareness it shares with the providers
 * (presence-check.ts): after this page's timers stalled (a background tab frozen, a laptop
 * asleep) the presence of the other tabs it knows counts as renewed, instead of being
 * dropped by y-protocols' check, which ran first after the thaw, before their renewals were
 * read (their presence blinked out). A tab that went meanwhile is still dropped, by its
 * goodbye or its lock. An app's Awareness gets y-protocols' check back when tab sync
 * stops; one tab sync made itself leaves no timer behind. The freeze is simulated as in
 * presence-thaw.test.ts; y-protocols' own interval runs on faked platform timers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { createTabSync } from '../../src/yjs/tab-sync.js';
import { ManualClock } from '../../src/util/clock.js';
import { waitFor } from '../support/net.js';
import { FakeLockManager } from './support/fake-locks.js';
import { tabTestbed } from './support/tab-fakes.js';
import { StallableClock, age } from './support/thaw.js';

const { freshName, tab } = tabTestbed('tab-presence-check-test');

afterEach(() => {
  vi.useRealTimers();
});

/** A tab on `name` showing the user `user`, with Web Locks from `locks`; `crash()` closes it with no goodbye, letting go of its lock. */
function userTab(name: string, user: string, locks: FakeLockManager) {
  const lock = locks.client();
  let channel: BroadcastChannel | undefined;
  const Channel = class extends BroadcastChannel {
    constructor(n: string) {
      super(n);
      channel = this;
    }
  };
  const t = tab(new Y.Doc(), name, { locks: lock, BroadcastChannel: Channel as never });
  t.awareness.setLocalStateField('user', { name: user });
  const crash = () => {
    channel!.close();
    lock.crash();
  };
  return { t, client: t.awareness.clientID, crash };
}

describe('tab sync: the presence check', () => {
  it("keeps other tabs' presence through a 60 s freeze, still drops tabs that went meanwhile, and times out a silent one", async () => {
    // y-protocols' own check on faked platform timers, so that it can be run here, were it still running.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const name = freshName();
    const locks = new FakeLockManager();
    const clock = new StallableClock();
    const t = tab(new Y.Doc(), name, { clock, locks: locks.client() });
    const [bea, cy, dee] = ['Bea', 'Cy', 'Dee'].map((user) => userTab(name, user, locks));
    await waitFor(() => t.awareness.getStates().size === 4 && [bea, cy, dee].every((u) => t.awareness.getStates().get(u!.client)?.user), 'the three tabs show at t');
    const timedOut: number[] = [];
    t.awareness.on('change', ({ removed }: { removed: number[] }, origin: unknown) => {
      if (origin === 'timeout') timedOut.push(...removed);
    });

    // t is frozen 60 s. Meanwhile Cy's tab closes (a goodbye) and Dee's crashes (its lock
    // let go): t reads both only after its first check, overdue, has run at the thaw.
    clock.stall(60_000);
    age(t.awareness, 60_000);
    cy!.t.destroy();
    dee!.crash();
    clock.manual.advance(3000);
    vi.advanceTimersByTime(3000);
    expect(timedOut).toEqual([]);
    expect(t.awareness.getStates().get(bea!.client)).toEqual({ user: { name: 'Bea' } });
    // Then the goodbye and the lock: both tabs go, with their presence.
    await waitFor(() => !t.awareness.getStates().has(cy!.client) && !t.awareness.getStates().has(dee!.client), 'Cy and Dee dropped', 1000);
    expect(t.tabs).toBe(1);

    // Bea's tab stays but never renews its presence: the timeout still applies, 30 s after the thaw.
    clock.manual.advance(24_000);
    expect(t.awareness.getStates().has(bea!.client)).toBe(true);
    age(t.awareness, 30_000);
    clock.manual.advance(3000);
    expect(timedOut).toEqual([bea!.client]);
  });

  it("hands an app's Awareness back to y-protocols' own check when it stops", () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const doc = new Y.Doc();
    const awareness = new Awareness(doc);
    const clock = new ManualClock();
    const t = createTabSync(doc, { name: freshName(), awareness, log: () => {}, locks: null, clock });
    // A remote state not renewed for 30 s: while tab sync runs, its clock's check decides.
    awareness.states.set(42, { user: 'gone' });
    awareness.meta.set(42, { clock: 1, lastUpdated: Date.now() - 30_000 });
    vi.advanceTimersByTime(3000);
    expect(awareness.states.has(42)).toBe(true);
    expect(clock.pending).toBe(1);
    t.destroy();
    expect(clock.pending).toBe(0);
    vi.advanceTimersByTime(3000);
    expect(awareness.states.has(42)).toBe(false);
    awareness.destroy();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no platform interval behind when it destroys its own Awareness and an app listener on it throws', () => {
    // Awareness.destroy() clears y-protocols' interval only after emitting 'change' for
    // our removed state: a listener that throws there (the UI already torn down) would
    // leave a 3 s interval for good, holding the Awareness and its doc.
    const set = vi.spyOn(globalThis, 'setInterval');
    const clear = vi.spyOn(globalThis, 'clearInterval');
    try {
      const logged: string[] = [];
      const t = createTabSync(new Y.Doc(), { name: freshName(), log: (m) => logged.push(m), locks: null, clock: new ManualClock() });
      t.awareness.setLocalStateField('user', { name: 'Ada' });
      t.awareness.on('change', () => {
        throw new Error('the UI is gone');
      });
      t.destroy(); // the listener's throw is logged, not thrown at the page's pagehide
      expect(logged.some((m) => m.includes('the UI is gone'))).toBe(true);
      const cleared = new Set(clear.mock.calls.map(([h]) => h));
      const live = set.mock.results.map((r) => r.value as unknown).filter((h) => !cleared.has(h as Parameters<typeof clearInterval>[0]));
      for (const h of live) clearInterval(h as Parameters<typeof clearInterval>[0]);
      expect(set).toHaveBeenCalled(); // y-protocols' interval was started, by the Awareness tab sync made
      expect(live).toEqual([]);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it('stops when its doc is destroyed, even if an app listener on its own Awareness throws then', () => {
    // doc.destroy() runs the Awareness's own destroy first (y-protocols listens to the doc
    // before tab sync could), and a 'change' listener throwing there ends doc.destroy():
    // tab sync's own 'destroy' listener on the doc never ran, and its channel stayed open.
    let closed = false;
    const Channel = class extends BroadcastChannel {
      override close() {
        closed = true;
        super.close();
      }
    };
    const doc = new Y.Doc();
    const clock = new ManualClock();
    const t = createTabSync(doc, { name: freshName(), log: () => {}, locks: null, clock, BroadcastChannel: Channel as never });
    t.awareness.setLocalStateField('user', { name: 'Ada' });
    t.awareness.on('change', () => {
      throw new Error('the UI is gone');
    });
    try {
      doc.destroy(); // the app's throw comes out of y-protocols' Awareness.destroy()
    } catch {
      // not tab sync's to catch
    }
    expect(closed).toBe(true);
    expect(clock.pending).toBe(0);
  });
});
