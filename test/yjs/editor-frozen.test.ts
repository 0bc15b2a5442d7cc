/**
 * The editor demo in headless Chromium with one person's page frozen for real, as a
 * phone or Chrome's memory and energy savers freeze a background tab
 * (`Page.setWebLifecycleState`: no script, timer or task runs; see
 * test/support/freezable-chromium.ts). Thawed, the page stays hidden, its timers firing at
 * most once a second, as a background tab's do. Frozen past the peers' timeout (2.25 s by
 * default) the others drop it and edit on; thawed, it must be back with everyone, both
 * ways, its presence back once and no ghost cursor. Frozen for less, nobody drops it. And
 * hidden, it still drops a peer whose page crashed.
 */
import { describe, expect, it } from 'vitest';
import { roomHash, textOf, typeAtEnd, type EditorPage } from './support/editor-page.js';
import { appendText, frozenEditors, hasText, peerCountsSeen, peersShown, presenceOf, watchPeerCount } from './support/frozen-editors.js';

const editors = frozenEditors();
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const visibility = (p: EditorPage) => p.page.evaluate(() => document.visibilityState);

async function threePeople(room: string): Promise<[EditorPage, EditorPage, EditorPage]> {
  const hash = roomHash(`${room}-${process.pid}`);
  const a = await editors.tab(hash);
  const b = await editors.person(hash);
  const c = await editors.person(hash);
  for (const p of [a, b, c]) await peersShown(p, 2, 60_000);
  return [a, b, c];
}

async function converged(pages: EditorPage[]): Promise<string> {
  await expect.poll(async () => new Set(await Promise.all(pages.map(textOf))).size, { timeout: 20_000 }).toBe(1);
  return textOf(pages[0]!);
}

describe('editor demo: a page frozen for real', () => {
  it('frozen past the peer timeout while the others edit, thawed it gets every edit, its own reach them, and its presence is back once', async () => {
    const [a, b, c] = await threePeople('frozen-long');
    const chromium = editors.chromium();
    const me = (await presenceOf(a)).listed.find((n) => n.endsWith(' (you)'))!.slice(0, -' (you)'.length);
    // A's cursor, so the others draw it.
    await typeAtEnd(a, 'a before. ');
    await hasText(b, 'a before. ');
    await hasText(c, 'a before. ');
    await expect.poll(async () => (await presenceOf(b)).cursors, { timeout: 10_000 }).toContain(me);

    // An edit made just before the freeze, not waited for.
    await appendText(a, 'a just before the freeze. ');
    const frozenAt = Date.now();
    await chromium.freeze(a.page);
    const droppedAfter = await Promise.all([peersShown(b, 1, 15_000), peersShown(c, 1, 15_000)]);
    // Its presence and cursor go with it.
    for (const p of [b, c]) await expect.poll(async () => (await presenceOf(p)).listed, { timeout: 10_000 }).not.toContain(me);
    await typeAtEnd(b, 'b meanwhile. ');
    await typeAtEnd(c, 'c meanwhile. ');
    await pause(Math.max(0, frozenAt + 8000 - Date.now()));
    await chromium.thaw(a.page);
    const frozenMs = Date.now() - frozenAt;
    expect(await visibility(a)).toBe('hidden');

    // Back while still hidden (timers throttled), both ways.
    const back = await Promise.all([peersShown(a, 2), peersShown(b, 2), peersShown(c, 2)]);
    await hasText(a, 'b meanwhile. ');
    await hasText(a, 'c meanwhile. ');
    await hasText(b, 'a just before the freeze. ');
    await hasText(c, 'a just before the freeze. ');
    await appendText(a, 'a hidden after the thaw. ');
    for (const p of [b, c]) await hasText(p, 'a hidden after the thaw. ');
    const text = await converged([a, b, c]);
    for (const part of ['a before. ', 'a just before the freeze. ', 'b meanwhile. ', 'c meanwhile. ', 'a hidden after the thaw. ']) expect(text).toContain(part);

    // A is listed once at each of the others, with one cursor; nobody else is listed twice.
    for (const p of [b, c]) {
      await expect.poll(async () => (await presenceOf(p)).listed.filter((n) => n === me), { timeout: 10_000 }).toHaveLength(1);
      const shown = await presenceOf(p);
      expect(shown.listed).toHaveLength(3);
      expect(new Set(shown.cursors).size).toBe(shown.cursors.length);
      expect(shown.cursors.filter((n) => n === me).length).toBeLessThanOrEqual(1);
    }
    expect((await presenceOf(a)).listed).toHaveLength(3);
    for (const p of [a, b, c]) expect(p.errors).toEqual([]);
    console.log(`frozen ${frozenMs} ms: dropped by b, c after ${droppedAfter.join(', ')} ms; back after thaw at a, b, c in ${back.join(', ')} ms`);
  }, 120_000);

  it('frozen for less than the peer timeout, nobody drops it and its edit made meanwhile arrives', async () => {
    const [a, b, c] = await threePeople('frozen-short');
    const chromium = editors.chromium();
    for (const p of [a, b, c]) await watchPeerCount(p);
    await chromium.freeze(a.page);
    const frozenAt = Date.now();
    // Inserted in one step, and the pause counted from the freeze: typing it (a click and
    // 21 keystrokes, over a second on a loaded machine) on top of 1.5 s made the freeze
    // outlast the 2.25 s peer timeout now and then, and the others rightly dropped a.
    await appendText(b, 'b while a is frozen. ');
    await pause(Math.max(0, 1500 - (Date.now() - frozenAt)));
    await chromium.thaw(a.page);
    await hasText(a, 'b while a is frozen. ');
    await appendText(a, 'a after. ');
    await hasText(b, 'a after. ');
    await hasText(c, 'a after. ');
    // Hidden now (timers once a second): a few heartbeat timeouts more, still nobody dropped.
    await pause(5000);
    for (const p of [a, b, c]) expect(await peerCountsSeen(p)).toEqual(['2 peers']);
    for (const p of [a, b, c]) expect(p.errors).toEqual([]);
  }, 120_000);

  it('hidden (timers once a second), it still drops a peer whose page crashes, as the others do', async () => {
    const [a, b, c] = await threePeople('hidden-crash');
    const chromium = editors.chromium();
    // A moment's freeze leaves it hidden, as a tab in the background.
    await chromium.freeze(a.page);
    await chromium.thaw(a.page);
    await pause(2000);
    expect(await visibility(a)).toBe('hidden');
    for (const p of [a, b, c]) expect(await p.page.evaluate(() => document.getElementById('peer-count')?.textContent)).toBe('2 peers');
    // C's renderer dies: no goodbye, its data channels go silent.
    const crashed = new Promise((r) => c.page.once('crash', r));
    const cdp = await c.context.newCDPSession(c.page);
    void cdp.send('Page.crash').catch(() => {});
    await crashed;
    const dropped = await Promise.all([peersShown(b, 1, 60_000), peersShown(a, 1, 60_000)]);
    console.log(`c crashed: dropped by b after ${dropped[0]} ms, by hidden a after ${dropped[1]} ms`);
    // Later than b (a hidden tab's probe checks all run late, and a late check that heard
    // nothing gets another window, in case the answer waits unread), but it does: 3-5 s here.
    expect(dropped[1]).toBeLessThan(20_000);
  }, 120_000);
});
