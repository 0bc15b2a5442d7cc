/**
 * The light-cycles page's status line when the session goes on without a friend or cannot
 * let this page in (demos/game/session-notices.ts, wired as main.ts wires it), on the
 * in-memory network with the sessions the demo's events come from.
 */
import { describe, expect, it } from 'vitest';
import { showSessionNotices } from '../../demos/game/session-notices.js';
import { NOT_ADMITTED_MS } from '../../src/lockstep/lobby-wait.js';
import { SILENT_MEMBER_MS } from '../../src/lockstep/silent-members.js';
import { advanceUntil, connect, net, walk } from './support/memory-sessions.js';

const names: Record<string, string> = { a: 'Ann', b: 'Bob', w: 'Wes', x: 'Xia' };
const nameOf = (id: string) => names[id] ?? id;

describe('light-cycles demo status line', () => {
  it('names the player this page cannot reach when it cannot join the game', async () => {
    // The coordinator a: a spectator cut from any other player watches through a forwarder.
    const n = net(631);
    const rooms = await connect(n, ['a', 'b']);
    const [a, b] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1)];
    await n.advance(200);
    a.start({ seed: 631 });
    await n.advance(1000);
    n.setLink('w', 'a', { latencyMs: 1e9 }); // nothing between w and a ever arrives
    const w = walk(n.join('game', { peerId: 'w' }), n, 2, { spectator: true });
    const shown: string[] = [];
    showSessionNotices(w, nameOf, (state, text) => shown.push(`${state}: ${text}`));
    await advanceUntil(n, () => shown.length > 0, NOT_ADMITTED_MS + 5000);
    expect(shown).toEqual(['warning: cannot join the game: no connection to Ann (a firewall between you?); still trying']);
    for (const s of [a, b, w]) s.leave();
  });

  it('says which friend the game went on without, and why; unsubscribing stops it', async () => {
    const n = net(632);
    const rooms = await connect(n, ['a', 'b', 'x']);
    const [a, b, x] = [walk(rooms[0]!, n, 0), walk(rooms[1]!, n, 1), walk(rooms[2]!, n, 2)];
    await n.advance(1500);
    x.leave(); // its page stays in the room and plays no more
    const shownA: string[] = [];
    const shownB: string[] = [];
    showSessionNotices(a, nameOf, (state, text) => shownA.push(`${state}: ${text}`));
    const offB = showSessionNotices(b, nameOf, (state, text) => shownB.push(`${state}: ${text}`));
    offB();
    a.start({ seed: 632 });
    await advanceUntil(n, () => shownA.length > 0, SILENT_MEMBER_MS + 10_000);
    expect(shownA).toEqual(['warning: Xia is out of the game: not heard from for 10 s']);
    await n.advance(2000);
    expect(shownB).toEqual([]);
    for (const s of [a, b]) s.leave();
  });
});
