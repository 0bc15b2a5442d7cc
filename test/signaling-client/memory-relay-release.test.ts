import { describe, expect, it } from 'vitest';
import { MemoryRelay } from '../../src/signaling-client/memory-signaling.js';
import { stillAlive } from '../support/collectable.js';

/**
 * Peers that join and leave, and one the full room turns away; returns only weak
 * references, so nothing but the relay can keep them alive once this returns.
 */
async function churn(relay: MemoryRelay): Promise<Array<WeakRef<object>>> {
  const refs: Array<WeakRef<object>> = [];
  for (let i = 0; i < 20; i++) {
    const c = relay.client('r', `p${i}`);
    refs.push(new WeakRef(c));
    c.join();
    await Promise.resolve();
    c.close();
  }
  // The room holds 'stay' plus one: 'filler' gets in, 'refused' is closed by the relay.
  relay.client('r', 'filler').join();
  const refused = relay.client('r', 'refused');
  let closed = false;
  refused.on('status', (s) => (closed ||= s === 'closed'));
  refused.join();
  refs.push(new WeakRef(refused));
  await new Promise<void>((r) => setImmediate(r));
  expect(closed).toBe(true);
  return refs;
}

describe('MemoryRelay', () => {
  it('lets go of clients that closed, so a long simulation does not keep every peer that ever joined', async () => {
    const relay = new MemoryRelay({ roomLimit: 2 });
    const stay = relay.client('r', 'stay');
    stay.join();
    expect(await stillAlive(await churn(relay))).toBe(0);
    // The relay still serves the clients that remain.
    const statuses: string[] = [];
    stay.on('status', (s) => statuses.push(s));
    relay.setUp(false);
    relay.setUp(true);
    await new Promise<void>((r) => setImmediate(r));
    expect(statuses).toEqual(['reconnecting', 'connected']);
  });
});
