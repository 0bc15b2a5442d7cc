/**
 * The editor demo (demos/editor) in headless Chromium, between rooms:
 * - following another room's link in an open tab (only the hash changes) switches the
 *   page to that room, and history goes back to the old one; each room, and each room
 *   with a password, keeps its own text;
 * - a join the relay refuses (room full, a bad room name, tokens required after a
 *   restart) is shown in the status and not retried;
 * - a relay that refuses the connection itself (full, too many connections from this
 *   address), first or on a rejoin after it restarted, is named in the status while the
 *   page keeps retrying, and the page gets in once capacity frees up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
// Named apart from the page's own `WebSocket`, which the init scripts below refer to.
import { WebSocket as NodeWebSocket } from 'ws';
import { createSignalingServer, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { launchChromium } from '../support/browser.js';
import { startDevServer, startRelay, type Served } from '../e2e/support/demo-servers.js';
import { type EditorPage, openEditor, roomHash, statusOf, typeAtEnd, waitUntilShown } from './support/editor-page.js';

let browser: Browser;
let dev: Served;
const relays: SignalingServer[] = [];
const pages: EditorPage[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  dev = await startDevServer();
});

afterAll(async () => {
  await Promise.allSettled(pages.map((p) => p.context.close()));
  await browser?.close();
  await Promise.allSettled(relays.map((r) => r.close()));
  await dev?.close();
});

async function open(relay: SignalingServer, hash: string, beforeGoto?: (page: Page) => Promise<void>): Promise<EditorPage> {
  const p = await openEditor(browser, { baseUrl: dev.url, relay: relay.address.url, hash, beforeGoto });
  pages.push(p);
  return p;
}

/** Set this person's name (remembered in the context's localStorage, so kept over reloads). */
async function rename(p: EditorPage, name: string): Promise<void> {
  await p.page.fill('#name', name);
  await p.page.press('#name', 'Enter');
}

/** What a person does with a link pasted into the address bar: only the hash changes. */
const followLink = (p: EditorPage, hash: string) => p.page.evaluate((h) => void (location.hash = h), hash);
const goBack = (p: EditorPage) => p.page.evaluate(() => history.back());

describe('editor demo: another room in the same tab', () => {
  it("following a link switches to that room's text, presence and chat; the old text stays out; back returns", async () => {
    const relay = await startRelay();
    relays.push(relay);
    const one = `rooms-${process.pid}-one`;
    const two = `rooms-${process.pid}-two`;
    const textOne = 'text of room one';
    const textTwo = 'text of room two';

    // Ada and Pat in room one, Ada writes there.
    const ada = await open(relay, roomHash(one));
    const pat = await open(relay, roomHash(one));
    await rename(ada, 'Ada');
    await rename(pat, 'Pat');
    await waitUntilShown(ada, 'Ada sees Pat in room one', (s) => s.peerCount === '1 peer' && s.presence.includes('Pat'));
    await typeAtEnd(ada, textOne);
    await waitUntilShown(pat, 'Pat gets room one text', (s) => s.text === textOne);

    // Pia alone in room two, with its own text and a chat message.
    const pia = await open(relay, roomHash(two));
    await rename(pia, 'Pia');
    await typeAtEnd(pia, textTwo);
    await pia.page.fill('#chat-input', 'chat in room two');
    await pia.page.click('#chat-form button[type=submit]');

    // Ada follows a link to room two.
    await followLink(ada, roomHash(two));
    const inTwo = await waitUntilShown(
      ada,
      'after following the link, Ada sees room two',
      (s) => s.room === two && s.loaded && s.text === textTwo && s.peerCount === '1 peer' && s.chat.includes('chat in room two'),
    );
    expect(inTwo.presence).toEqual(['Ada (you)', 'Pia']);
    // Room one no longer has Ada.
    await waitUntilShown(pat, 'Pat sees Ada leave room one', (s) => s.peerCount === '0 peers' && s.presence.length === 1);
    // Nothing of room one reached room two: Pia's text is hers plus what Ada types now.
    // (Updates arrive in order, so once Pia has Ada's edit she has all Ada's doc sent.)
    await typeAtEnd(ada, ' and Ada');
    await waitUntilShown(pia, "Pia gets Ada's edit, and only that", (s) => s.text.includes(' and Ada'));
    await waitUntilShown(pia, 'Pia has no room one text', (s) => s.text === `${textTwo} and Ada`, 1000);
    await waitUntilShown(pat, 'room one kept its text', (s) => s.text === textOne, 1000);

    // The same room name with a password is another store: room one's text must not load.
    // (Pat leaves first: a peer without the password would make this a wrong-password case.)
    await pat.context.close();
    await followLink(ada, roomHash(one, 'secret'));
    await waitUntilShown(ada, 'room one with a password starts empty', (s) => s.room === one && s.loaded && s.peerCount === '0 peers');
    await waitUntilShown(ada, 'room one with a password starts empty', (s) => s.text === '', 1000);
    await typeAtEnd(ada, 'secret text');

    // Back: room two as it was, then room one with its text (from IndexedDB: nobody else is there).
    await goBack(ada);
    await waitUntilShown(ada, 'back in room two', (s) => s.room === two && s.loaded && s.text === `${textTwo} and Ada` && s.peerCount === '1 peer');
    await goBack(ada);
    const backInOne = await waitUntilShown(ada, 'back in room one', (s) => s.room === one && s.loaded && s.peerCount === '0 peers');
    expect(backInOne.text).toBe(textOne);
    expect(backInOne.presence).toEqual(['Ada (you)']);
    for (const p of [ada, pat, pia]) expect(p.errors).toEqual([]);
  }, 240_000);
});

describe('editor demo: the relay refuses the join', () => {
  /** Count WebSockets the page opens to the relay, and put its timers on a clock the test can run ahead. */
  const countSocketsOnFakeClock = async (page: Page) => {
    await page.addInitScript(() => {
      const Native = WebSocket;
      const relay = new URLSearchParams(location.search).get('relay');
      const w = window as unknown as { socketsMade: number; WebSocket: typeof WebSocket };
      w.socketsMade = 0;
      w.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          // Vite's dev client opens one of its own.
          if (String(url) === relay) w.socketsMade++;
        }
      };
    });
    // Time runs as usual until the test runs it ahead.
    await page.clock.install();
  };
  const socketsMade = (p: EditorPage) => p.page.evaluate(() => (window as unknown as { socketsMade: number }).socketsMade);

  /** The page shows a refusal matching `shows`, and an hour later has made no new socket and still shows it. */
  async function expectShownNotRetried(p: EditorPage, shows: RegExp): Promise<void> {
    await expect.poll(() => statusOf(p), { timeout: 60_000, interval: 200 }).toMatchObject({ state: 'error', text: expect.stringMatching(shows) });
    const made = await socketsMade(p);
    // An hour of the page's timers (every backoff a retry could wait), run now.
    await p.page.clock.runFor(60 * 60_000);
    expect(await socketsMade(p)).toBe(made);
    expect(await statusOf(p)).toMatchObject({ state: 'error', text: expect.stringMatching(shows) });
  }

  it('a full room and a bad room name are shown, and not retried', async () => {
    const relay = await startRelay(0, { maxPeersPerRoom: 1 });
    relays.push(relay);
    const room = `crowded-${process.pid}`;
    const first = await open(relay, roomHash(room));
    await expect.poll(() => statusOf(first), { timeout: 60_000 }).toMatchObject({ state: 'connected' });

    const second = await open(relay, roomHash(room), countSocketsOnFakeClock);
    await expectShownNotRetried(second, /room is full/);
    expect(await socketsMade(second)).toBe(1);
    expect(relay.metrics().rejections['room-full']).toBe(1);

    const badName = await open(relay, roomHash('x'.repeat(300)), countSocketsOnFakeClock);
    await expectShownNotRetried(badName, /room name/);
    expect(await socketsMade(badName)).toBe(1);
    expect(relay.metrics().rejections['room-name-invalid']).toBe(1);
    // The page in the room is unaffected.
    expect(await statusOf(first)).toMatchObject({ state: 'connected' });
    for (const p of [first, second, badName]) expect(p.errors).toEqual([]);
  }, 180_000);

  it('a wrong password (known only once the peer in the room answers) is shown, and not retried', async () => {
    const relay = await startRelay();
    relays.push(relay);
    const room = `password-${process.pid}`;
    const inside = await open(relay, roomHash(room, 'right'));
    await expect.poll(() => statusOf(inside), { timeout: 60_000 }).toMatchObject({ state: 'connected' });
    const wrong = await open(relay, roomHash(room, 'wrong'), countSocketsOnFakeClock);
    await expectShownNotRetried(wrong, /wrong password/i);
    expect(await socketsMade(wrong)).toBe(1);
    expect(await statusOf(inside)).toMatchObject({ state: 'connected' });
    for (const p of [inside, wrong]) expect(p.errors).toEqual([]);
  }, 180_000);

  it('a refusal when rejoining after a relay restart (tokens now required) is shown, and not retried', async () => {
    const before = await startRelay();
    const port = before.address.port;
    const p = await open(before, roomHash(`restart-${process.pid}`), countSocketsOnFakeClock);
    await expect.poll(() => statusOf(p), { timeout: 60_000 }).toMatchObject({ state: 'connected' });
    await typeAtEnd(p, 'kept through it all');

    await before.close();
    await expect.poll(() => statusOf(p), { timeout: 60_000 }).not.toMatchObject({ state: 'connected' });
    const after = await createSignalingServer({ host: '127.0.0.1', port, logger: silentLogger, secret: 'now-with-tokens' });
    relays.push(after);
    await expectShownNotRetried(p, /room token/);
    expect(after.metrics().rejections['token-required']).toBe(1);
    // The page still works offline with its text.
    const stored = await p.page.evaluate(() => (window as unknown as { meshpartyEditor: { storedText(): Promise<string> } }).meshpartyEditor.storedText());
    expect(stored).toBe('kept through it all');
    expect(p.errors).toEqual([]);
  }, 180_000);
});

describe('editor demo: the relay refuses the connection itself', () => {
  /** Take the relay's one connection slot (its limit is 1, from 127.0.0.1) with a plain socket. */
  async function occupy(relay: SignalingServer): Promise<NodeWebSocket> {
    const ws = new NodeWebSocket(relay.address.url);
    await new Promise((res, rej) => ws.once('open', res).once('error', rej));
    expect(relay.metrics().connections).toBe(1);
    return ws;
  }

  it('a full relay is named while the page retries, and the page joins once a slot frees up', async () => {
    const relay = await startRelay(0, { maxConnections: 1 });
    relays.push(relay);
    const blocker = await occupy(relay);
    const p = await open(relay, roomHash(`relay-full-${process.pid}`));
    await expect.poll(() => statusOf(p), { timeout: 60_000, interval: 200 }).toMatchObject({ text: expect.stringMatching(/^relay full, retrying/) });
    // Still retrying (another join's attempts are refused too), still naming the reason.
    const refusedSoFar = relay.metrics().rejections['server-full'] ?? 0;
    await expect.poll(() => relay.metrics().rejections['server-full'] ?? 0, { timeout: 60_000, interval: 200 }).toBeGreaterThan(refusedSoFar);
    expect((await statusOf(p)).text).toMatch(/^relay full, retrying/);

    blocker.close();
    await expect.poll(() => statusOf(p), { timeout: 60_000, interval: 200 }).toMatchObject({ state: 'connected', text: 'connected' });
    expect(p.errors).toEqual([]);
  }, 180_000);

  it('a rejoin refused for the join rate of this address is named in words, not as the raw code', async () => {
    const before = await startRelay();
    const port = before.address.port;
    // Timers on a clock the test can hold, so the restarted relay's one join is taken first.
    const p = await open(before, roomHash(`relay-rate-${process.pid}`), (page) => page.clock.install());
    await expect.poll(() => statusOf(p), { timeout: 60_000 }).toMatchObject({ state: 'connected' });
    await p.page.clock.pauseAt((await p.page.evaluate(() => Date.now())) + 1000);
    await before.close();
    await expect.poll(() => statusOf(p), { timeout: 60_000 }).toMatchObject({ text: 'reconnecting' });
    // One join from this address, then none for a long while; another page takes it.
    const after = await startRelay(port, { joinsPerSecond: 0.001, joinBurst: 1 });
    relays.push(after);
    const other = await open(after, roomHash(`relay-rate-other-${process.pid}`));
    await expect.poll(() => statusOf(other), { timeout: 60_000 }).toMatchObject({ state: 'connected' });
    await p.page.clock.resume();
    await expect.poll(() => statusOf(p), { timeout: 60_000, interval: 200 }).toEqual({
      state: 'offline',
      text: 'too many joins from this network just now, retrying…',
    });
    expect([...p.errors, ...other.errors]).toEqual([]);
  }, 180_000);

  it('too many connections from this address, on a rejoin after a relay restart, is named while the page retries; it rejoins once a slot frees up', async () => {
    const before = await startRelay();
    const port = before.address.port;
    // Timers on a clock the test can hold, so the restarted relay is full before the page's retry.
    const p = await open(before, roomHash(`relay-per-ip-${process.pid}`), (page) => page.clock.install());
    await expect.poll(() => statusOf(p), { timeout: 60_000 }).toMatchObject({ state: 'connected' });
    await typeAtEnd(p, 'kept while the relay is full');

    await p.page.clock.pauseAt((await p.page.evaluate(() => Date.now())) + 1000);
    await before.close();
    await expect.poll(() => statusOf(p), { timeout: 60_000 }).toMatchObject({ text: 'reconnecting' });
    const after = await startRelay(port, { maxConnectionsPerIp: 1 });
    relays.push(after);
    const blocker = await occupy(after);
    await p.page.clock.resume();

    await expect.poll(() => statusOf(p), { timeout: 60_000, interval: 200 }).toMatchObject({
      state: 'offline',
      text: 'too many connections from this address, retrying…',
    });
    const refusedSoFar = after.metrics().rejections['too-many-connections-from-ip'] ?? 0;
    await expect.poll(() => after.metrics().rejections['too-many-connections-from-ip'] ?? 0, { timeout: 60_000, interval: 200 }).toBeGreaterThan(refusedSoFar);

    blocker.close();
    await expect.poll(() => statusOf(p), { timeout: 60_000, interval: 200 }).toMatchObject({ state: 'connected', text: 'connected' });
    const stored = await p.page.evaluate(() => (window as unknown as { meshpartyEditor: { storedText(): Promise<string> } }).meshpartyEditor.storedText());
    expect(stored).toBe('kept while the relay is full');
    expect(p.errors).toEqual([]);
  }, 180_000);
});
