import { describe, expect, it } from 'vitest';
import { SendBudget } from '../../signaling/send-budget.js';

const reader = (name: string, bufferedAmount: number) => ({ name, ws: { bufferedAmount } });

describe('SendBudget: the relay-wide cap on bytes waiting for slow readers', () => {
  it('over the cap, drops the largest readers until under 90% of it, measuring each buffer afresh', () => {
    const dropped: string[] = [];
    const budget: SendBudget<ReturnType<typeof reader>> = new SendBudget(1000, (r) => dropped.push(r.name));
    const [a, b, c, d] = [reader('a', 300), reader('b', 400), reader('c', 100), reader('d', 0)];
    for (const r of [a, b, c]) budget.sent(r);
    expect(dropped).toEqual([]); // 800
    a.ws.bufferedAmount = 0; // a drained since its last send: no longer counted once measured
    d.ws.bufferedAmount = 650;
    budget.sent(d); // bound 1450 > 1000; measured 1150: drop d (650), then 500 <= 900
    expect(dropped).toEqual(['d']);
    b.ws.bufferedAmount = 950;
    budget.sent(b); // 1050: b alone goes, the smaller ones stay
    expect(dropped).toEqual(['d', 'b']);
  });

  it('does not drop again a reader that an earlier drop already took down (counted and logged once)', () => {
    // Dropping x tells its rooms it left, and that send drops y at its own cap (forgotten
    // here): y must not be dropped (counted, logged) a second time as the shedding goes on.
    const dropped: string[] = [];
    const small = Array.from({ length: 20 }, (_, i) => reader(`s${i}`, 46)); // 920
    const [x, y] = [reader('x', 50), reader('y', 48)];
    const budget: SendBudget<ReturnType<typeof reader>> = new SendBudget(1000, (r) => {
      dropped.push(r.name);
      if (r === x) budget.forget(y);
    });
    for (const r of [...small, x]) budget.sent(r); // 970
    expect(dropped).toEqual([]);
    budget.sent(y); // 1018: x goes, y with it; 920 > 900, so one more
    expect(dropped).toEqual(['x', 's0']);
  });
});
