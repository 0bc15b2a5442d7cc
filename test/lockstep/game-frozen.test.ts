/**
 * The light-cycles demo in headless Chromium with one player's page frozen for real mid-game,
 * as a phone or Chrome's savers freeze a background tab (`Page.setWebLifecycleState`: no
 * script, timer or task runs; see test/support/freezable-chromium.ts). Thawed, it stays
 * hidden (timers at most once a second) and must keep the pace of the others' packets.
 * As README (Lockstep, "A hidden tab") says: frozen for less than the peer timeout, the
 * other player stalls on its inputs and both go on in agreement; frozen for longer, the
 * other drops it and plays on, and the thawed page goes back through the lobby
 * (`rejoining`), is admitted again and agrees with it; with two players, into the game of
 * the one who played on. The demo is built and served by
 * `vite preview`: Vite's dev client reloads a page whose socket to it came back, and
 * Chromium closes a frozen page's sockets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalingServer } from '../../signaling/index.js';
import { buildDemos, startPreview, startRelay, type Served } from '../e2e/support/demo-servers.js';
import { launchFreezableChromium, type FreezableChromium } from '../support/freezable-chromium.js';
import { game } from './support/game-servers.js';

let chromium: FreezableChromium;
let relay: SignalingServer;
let served: Served;
const outDir = mkdtempSync(join(tmpdir(), 'meshparty-frozen-game-'));
beforeAll(async () => {
  chromium = await launchFreezableChromium();
  relay = await startRelay();
  await buildDemos(outDir, ['game/index.html']);
  served = await startPreview(outDir);
}, 180_000);
afterAll(async () => {
  await chromium?.close();
  await relay?.close();
  await served?.close();
  rmSync(outDir, { recursive: true, force: true });
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polled on a timer: Playwright's default polls on animation frames, which a hidden page never gets. */
const until = (page: Page, fn: string, test: string, arg: unknown, timeout = 30_000) =>
  page.waitForFunction(
    ([f, t, a]) => new Function('v', 'a', `return ${t}`)((window as unknown as { __meshpartyGame?: Record<string, () => unknown> }).__meshpartyGame?.[f as string]?.(), a),
    [fn, test, arg] as const,
    { timeout, polling: 100 },
  );

/** `1 + others` players in a running game: `sleeper` a tab that can be frozen, `others` other people. */
async function playing(room: string, others: number): Promise<{ sleeper: Page; others: Page[]; errors: string[] }> {
  const url = `${served.url}game/?relay=${encodeURIComponent(relay.address.url)}#room=${room}-${process.pid}`;
  const errors: string[] = [];
  const sleeper = await chromium.tabs.newPage();
  const rest: Page[] = [];
  for (let i = 0; i < others; i++) rest.push(await (await chromium.browser.newContext()).newPage());
  const all = [sleeper, ...rest];
  for (const p of all) {
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(url);
  }
  for (const p of all) await until(p, 'peers', 'v === a', others, 60_000);
  for (const p of all) await p.click('#ready');
  let host = all[0]!;
  for (const p of all) if (await game<boolean>(p, 'isHost')) host = p;
  await host.waitForFunction((n) => document.querySelectorAll('#lobby-list li.ready').length === n, all.length, { timeout: 20_000 });
  await host.click('#start');
  for (const p of all) await until(p, 'status', "v === 'running'", null);
  for (const p of all) await until(p, 'frame', 'v >= a', 120);
  return { sleeper, others: rest, errors };
}

/** Start keeping, in `page`, its frame every 20 ms with the time (see {@link longestStall}). */
const logFrames = (page: Page): Promise<void> =>
  page.evaluate(() => {
    const w = window as unknown as { frames: [number, number][]; __meshpartyGame: { frame(): number } };
    w.frames = [];
    setInterval(() => w.frames.push([Date.now(), w.__meshpartyGame.frame()]), 20);
  });

/**
 * From what {@link logFrames} kept between `from` and `to` (ms since the epoch): the longest
 * time the frame stood still, and how many frames it stepped.
 */
async function longestStall(page: Page, from: number, to: number): Promise<{ stallMs: number; stepped: number }> {
  const log = (await page.evaluate(() => (window as unknown as { frames: [number, number][] }).frames)).filter(([t]) => t >= from && t <= to);
  let stallMs = 0;
  let since = log[0]!;
  for (const entry of log) {
    if (entry[1] !== since[1]) since = entry;
    stallMs = Math.max(stallMs, entry[0] - since[0]);
  }
  return { stallMs, stepped: log[log.length - 1]![1] - log[0]![1] };
}

/** Both pages' hashes of every 10th frame in [from, to] agree (and exist); how many were compared. */
async function hashesAgree(pages: Page[], from: number, to: number): Promise<number> {
  for (const p of pages) await until(p, 'frame', 'v >= a', to + 5, 60_000);
  let compared = 0;
  for (let f = Math.ceil(from / 10) * 10; f <= to; f += 10) {
    const hs = await Promise.all(pages.map((p) => game<number | undefined>(p, 'hashAt', f)));
    expect(typeof hs[0], `frame ${f}`).toBe('number');
    expect(hs, `frame ${f}`).toEqual(hs.map(() => hs[0]));
    compared++;
  }
  return compared;
}

describe('light-cycles demo with a player frozen for real', () => {
  it('frozen 1.5 s (less than the peer timeout): the other stalls on it, then both play on in agreement, the thawed one at full pace while hidden', async () => {
    const { sleeper, others, errors } = await playing('frozen-game-short', 1);
    const other = others[0]!;
    await logFrames(other);
    await chromium.freeze(sleeper);
    const frozenAt = Date.now();
    const frozenFrame = await game<number>(other, 'frame');
    await pause(1500);
    await chromium.thaw(sleeper);
    const thawedAt = Date.now();
    expect(await sleeper.evaluate(() => document.visibilityState)).toBe('hidden');
    // The other stood still on the frozen player's inputs once its input delay ran out
    // (a running game, even at 10 ticks a second on this loaded machine, never stands 1 s).
    const { stallMs } = await longestStall(other, frozenAt, thawedAt);
    expect(stallMs).toBeGreaterThan(1000);
    // Hidden, its timers once a second, the sleeper ticks on the other's packets: 180
    // frames (3 s at 60 Hz) well within 20 s; ticking on its timers alone both would crawl
    // at a frame or two a second (90 s and more).
    const from = await game<number>(other, 'frame');
    const t0 = Date.now();
    await until(other, 'frame', 'v >= a', from + 180);
    const paceMs = Date.now() - t0;
    expect(paceMs).toBeLessThan(20_000);
    expect(await sleeper.evaluate(() => document.visibilityState)).toBe('hidden');
    for (const p of [sleeper, other]) expect(await game<string>(p, 'status')).toBe('running');
    const to = from + 180;
    expect(await hashesAgree([sleeper, other], frozenFrame - 60, to)).toBeGreaterThan(20);
    for (const p of [sleeper, other]) expect(await game<number>(p, 'desyncs')).toBe(0);
    expect(errors).toEqual([]);
    console.log(`short freeze: the other stood still ${stallMs} ms of the 1.5 s; 180 frames after the thaw took ${paceMs} ms with the sleeper hidden`);
  }, 180_000);

  it('frozen 6 s (past the peer timeout) in a game of three: the two others drop it and play on; thawed, it rejoins their game (split), catches up and agrees', async () => {
    const { sleeper, others, errors } = await playing('frozen-game-long', 2);
    const [b, c] = others as [Page, Page];
    await logFrames(b);
    await chromium.freeze(sleeper);
    const frozenAt = Date.now();
    for (const p of others) await until(p, 'peers', 'v === 1', null, 15_000);
    const droppedAt = Date.now();
    await pause(Math.max(0, frozenAt + 6000 - droppedAt));
    const thawFrame = await game<number>(b, 'frame');
    const thawAt = Date.now();
    // The two stood still on its inputs until they dropped it, then played on without it
    // (their timers run 10-40 ticks a second on a loaded two-core machine rendering Phaser
    // in software, so not the full 60; a game still stalled would step none).
    const before = await longestStall(b, frozenAt, droppedAt);
    const after = await longestStall(b, droppedAt + 500, thawAt);
    expect(before.stallMs).toBeGreaterThan(1000);
    expect(after.stallMs).toBeLessThan(1000);
    expect(after.stepped).toBeGreaterThan(10);
    await chromium.thaw(sleeper);
    const thawedAt = Date.now();
    for (const p of [sleeper, b, c]) await until(p, 'peers', 'v === 2', null, 30_000);
    // Back in their game, at or past the frame they had reached: it caught up.
    await until(sleeper, 'status', "v === 'running'", null, 60_000);
    await until(sleeper, 'frame', 'v >= a', thawFrame, 30_000);
    const backMs = Date.now() - thawedAt;
    // It went back to the lobby and was admitted again (told by its session's events: a
    // hidden page's timers, once a second, would miss a lobby visit of 180 ms, as one did in
    // a CI run): as the smaller half of a split game, or, when the others' drop of it reaches
    // it before their hellos name both of them as peers it is connected to, as dropped.
    const rejoins = await game<string[]>(sleeper, 'rejoins');
    expect(rejoins.filter((code) => code === 'split' || code === 'dropped')).not.toEqual([]);
    expect(await game<string>(sleeper, 'status')).toBe('running');
    const from = (await game<number>(b, 'frame')) + 30;
    expect(await hashesAgree([sleeper, b, c], from, from + 120)).toBeGreaterThan(10);
    for (const p of [sleeper, b, c]) expect(await game<number>(p, 'desyncs')).toBe(0);
    expect(errors).toEqual([]);
    console.log(
      `long freeze: dropped after ${droppedAt - frozenAt} ms, having stood still ${before.stallMs} ms; then ${after.stepped} frames by 6 s (longest stand ${after.stallMs} ms); ` +
        `after the thaw the sleeper rejoined (${rejoins.join(', ')}) and was running at their frame ${backMs} ms later`,
    );
  }, 180_000);

  it('frozen 6 s in a game of two: the other drops it and plays on, and stays in its game; thawed, the sleeper rejoins that game (split), whichever id is lower', async () => {
    const { sleeper, others, errors } = await playing('frozen-game-pair', 1);
    const other = others[0]!;
    const logs: string[] = []; // each page's lockstep log lines (why it went back to the lobby)
    for (const p of [sleeper, other]) p.on('console', (m) => m.text().includes('[lockstep') && logs.push(m.text()));
    await chromium.freeze(sleeper);
    const frozenAt = Date.now();
    await until(other, 'peers', 'v === 0', null, 15_000);
    await pause(Math.max(0, frozenAt + 6000 - Date.now()));
    const thawFrame = await game<number>(other, 'frame');
    await chromium.thaw(sleeper);
    const thawedAt = Date.now();
    for (const p of [sleeper, other]) await until(p, 'peers', 'v === 1', null, 30_000);
    await until(sleeper, 'status', "v === 'running'", null, 60_000);
    await until(sleeper, 'frame', 'v >= a', thawFrame, 30_000);
    const backMs = Date.now() - thawedAt;
    // Each half is one player: the one who played on 6 s stays (before, at equal size the
    // lower id won, and it went into the sleeper's older game, to wait there ~9 s joining).
    const rejoins = await game<string[]>(sleeper, 'rejoins');
    // (The log lines ride along so that a failure shows each page's reason and frames.)
    expect([rejoins, await game<string[]>(other, 'rejoins'), logs]).toEqual([expect.arrayContaining(['split']), [], expect.anything()]);
    for (const p of [sleeper, other]) expect(await game<string>(p, 'status')).toBe('running');
    const from = (await game<number>(other, 'frame')) + 30;
    expect(await hashesAgree([sleeper, other], from, from + 120)).toBeGreaterThan(10);
    for (const p of [sleeper, other]) expect(await game<number>(p, 'desyncs')).toBe(0);
    expect(errors).toEqual([]);
    const lower = (await game<string>(sleeper, 'selfId')) < (await game<string>(other, 'selfId'));
    console.log(`pair freeze: the sleeper (the ${lower ? 'lower' : 'higher'} id) rejoined (${rejoins.join(', ')}) and was running at the other's frame ${backMs} ms after the thaw (${logs.filter((l) => l.includes('back to the lobby')).join(' | ')})`);
  }, 180_000);
});
