/**
 * The editor demo (demos/editor) in headless Chromium when a person's page stops for a
 * while, as it does in real use (a laptop asleep, a phone's background tab): no script
 * runs in it for longer than the peers' heartbeat timeout, so they drop it, and they type
 * meanwhile; running again, it must reconnect, get what they typed, and its own typing
 * must reach them; so too when the relay restarted meanwhile, and the page wakes to find
 * its relay connection gone. The page is stopped with the DevTools debugger (`Debugger.pause`):
 * headless Chromium keeps running timers of a page set `frozen` through
 * `Page.setWebLifecycleState` while it is visible.
 */
import { describe, expect, it } from 'vitest';
import type { CDPSession } from 'playwright-core';
import { roomHash, textOf, typeAtEnd, type EditorPage } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();
const peersShown = (p: EditorPage, n: number) =>
  p.page.waitForFunction((want) => document.getElementById('peer-count')?.textContent === want, `${n} ${n === 1 ? 'peer' : 'peers'}`, { timeout: 60_000 });
const hasText = (p: EditorPage, part: string) =>
  p.page.waitForFunction((want) => (window as unknown as { meshpartyEditor: { text(): string } }).meshpartyEditor.text().includes(want), part, { timeout: 60_000 });

async function converged(pages: EditorPage[]): Promise<string> {
  const texts = async () => Promise.all(pages.map(textOf));
  await expect.poll(async () => new Set(await texts()).size, { timeout: 30_000 }).toBe(1);
  return (await texts())[0]!;
}

/**
 * Three people co-edit; the third's page stops (no script runs) until the others have
 * dropped it and typed, and `sleepMs` more (`meanwhile` runs first); then it runs again
 * and must catch up both ways.
 */
async function sleepAndWake(hash: string, sleepMs: number, meanwhile?: () => Promise<void>): Promise<void> {
  const pages = [await editors.open(hash), await editors.open(hash), await editors.open(hash)];
  for (const p of pages) await peersShown(p, 2);
  const [a, b, sleeper] = pages as [EditorPage, EditorPage, EditorPage];
  await typeAtEnd(sleeper, 'before sleep. ');
  await hasText(a, 'before sleep. ');

  const cdp: CDPSession = await sleeper.context.newCDPSession(sleeper.page);
  await cdp.send('Debugger.enable');
  await cdp.send('Debugger.pause');
  await meanwhile?.();
  // The others drop it once its heartbeats stop (2.25 s by default), then type.
  await peersShown(a, 1);
  await peersShown(b, 1);
  await typeAtEnd(a, 'a while it slept. ');
  await typeAtEnd(b, 'b while it slept. ');
  await new Promise((r) => setTimeout(r, sleepMs));

  await cdp.send('Debugger.resume');
  await peersShown(sleeper, 2);
  await hasText(sleeper, 'a while it slept. ');
  await hasText(sleeper, 'b while it slept. ');
  await typeAtEnd(sleeper, 'after waking.');
  await hasText(a, 'after waking.');
  await hasText(b, 'after waking.');
  const text = await converged(pages);
  for (const part of ['before sleep. ', 'a while it slept. ', 'b while it slept. ', 'after waking.']) expect(text).toContain(part);
  await sleeper.page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', null, { timeout: 30_000 });
  for (const p of pages) expect(p.errors).toEqual([]);
}

describe('editor demo: a page that stops for a while', () => {
  it('stopped past the peers\' heartbeat timeout, it reconnects and syncs both ways when it runs again', async () => {
    await sleepAndWake(roomHash(`resume-peers-${process.pid}`), 3000);
  }, 180_000);

  it('asleep while the relay restarted, it finds its relay connection gone on waking, rejoins, reconnects and syncs both ways', async () => {
    // (A page that is only paused still answers the relay's WebSocket pings, so its
    // connection is dropped by restarting the relay, which forgets everyone.)
    await sleepAndWake(roomHash(`resume-relay-${process.pid}`), 3000, () => editors.restartRelay());
  }, 180_000);
});
