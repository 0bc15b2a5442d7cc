/**
 * Tab sync and the presence check of the Awareness it shares (presence-check.ts): an
 * Awareness it made itself leaves no timer behind when it is destroyed.
 */
import { describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { createTabSync } from '../../src/yjs/tab-sync.js';
import { ManualClock } from '../../src/util/clock.js';
import { tabTestbed } from './support/tab-fakes.js';

const { freshName } = tabTestbed('tab-presence-check-test');

describe('tab sync: the presence check', () => {
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
});
