/**
 * The chat demo in headless Chromium (Debian's chromium through playwright-core): two
 * tabs join one room through our relay and talk over WebRTC data channels, from the
 * Vite dev server and from a production `vite build`. Vite runs with no config file at
 * all, so this also proves meshparty needs no polyfills or plugins in a user's page.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalingServer } from '../../signaling/index.js';
import { launchChromium } from '../support/browser.js';
import { waitFor } from '../support/net.js';
import { allowWebRtc, blockWebRtc } from '../support/webrtc-switch.js';
import { openChat, type ChatPage } from './support/chat-page.js';
import { buildDemos, startDevServer, startPreview, startRelay, type Served } from './support/demo-servers.js';

let browser: Browser;
let relay: SignalingServer;
const opened: ChatPage[] = [];
let roomSeq = 0;
const nextRoom = (): string => `e2e-chat-${process.pid}-${roomSeq++}`;

async function open(baseUrl: string, room: string, password?: string): Promise<ChatPage> {
  const p = await openChat(browser, { baseUrl, relay: relay.address.url, room, ...(password ? { password } : {}) });
  opened.push(p);
  return p;
}

/** Two tabs in one room see each other, then each says something the other shows. */
/** Two tabs from `baseUrl` in a new room on `relay`, connected to each other; `viaOwn` opens another tab there. */
async function twoTabs(baseUrl: string, relay: SignalingServer): Promise<{ a: ChatPage; b: ChatPage; viaOwn: () => Promise<ChatPage> }> {
  const room = nextRoom();
  const viaOwn = (): Promise<ChatPage> => openChat(browser, { baseUrl, relay: relay.address.url, room }).then((p) => (opened.push(p), p));
  const a = await viaOwn();
  const b = await viaOwn();
  await a.waitForPeers(1);
  await b.waitForPeers(1);
  return { a, b, viaOwn };
}

async function chatBothWays(baseUrl: string): Promise<[ChatPage, ChatPage]> {
  const room = nextRoom();
  const a = await open(baseUrl, room);
  const b = await open(baseUrl, room);
  await a.waitForPeers(1);
  await b.waitForPeers(1);
  // Each lists the other by id: the connection is between these two, not to a ghost.
  expect(await a.page.getAttribute('#peers li[data-peer-id]', 'data-peer-id')).toBe(await b.selfId());
  expect(await b.page.getAttribute('#peers li[data-peer-id]', 'data-peer-id')).toBe(await a.selfId());

  await a.say('hello from A');
  await b.waitForMessage('hello from A');
  await b.say('and back from B ✓');
  await a.waitForMessage('and back from B ✓');
  return [a, b];
}

beforeAll(async () => {
  browser = await launchChromium();
  relay = await startRelay();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((p) => p.page.close()));
  await browser?.close();
  await relay?.close();
});

describe('chat demo on the Vite dev server', () => {
  let dev: Served;
  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });

  it('two tabs connect through the relay and exchange messages both ways', async () => {
    const [a, b] = await chatBothWays(dev.url);
    // The RTT column fills in from heartbeats.
    await a.page.waitForFunction(() => /rtt \d+ ms/.test(document.querySelector('#peers .rtt')?.textContent ?? ''), null, {
      timeout: 20_000,
    });
    await expect(a.page.textContent('#status')).resolves.toBe('connected');
    expect(a.pageErrors).toEqual([]);
    expect(b.pageErrors).toEqual([]);
  });

  it('a tab that joins later sees what the others said before it came, in order, once', async () => {
    const { a, b, viaOwn } = await twoTabs(dev.url, relay);
    await a.say('first, from A');
    await b.waitForMessage('first, from A');
    await b.say('second, from B');
    await a.waitForMessage('second, from B');
    await a.say('third, from A');
    await b.waitForMessage('third, from A');

    const c = await viaOwn();
    await c.waitForPeers(2);
    await c.waitForMessage('third, from A');
    await c.waitForMessage('second, from B');
    const lines = (p: ChatPage) => p.page.evaluate(() => [...document.querySelectorAll('#log li.chat')].map((li) => li.textContent ?? ''));
    expect((await lines(c)).map((l) => l.replace(/^.*?(first|second|third)/, '$1'))).toEqual(['first, from A', 'second, from B', 'third, from A']);
    // The others show each line once: C had nothing to tell, and A and B nothing new for each other.
    await c.say('and C');
    await a.waitForMessage('and C');
    await b.waitForMessage('and C');
    for (const p of [a, b]) expect(await lines(p)).toHaveLength(4);
    expect([...a.pageErrors, ...b.pageErrors, ...c.pageErrors]).toEqual([]);
  });

  it('shows the join form until the page joins, then only the room', async () => {
    // Their CSS display (flex, grid) beat the hidden attribute: the room's log and send box
    // showed before joining, and the join form (room, name, password) stayed up after it.
    const page = await browser.newPage();
    opened.push({ page } as ChatPage);
    await page.goto(`${dev.url}chat/?relay=${encodeURIComponent(relay.address.url)}`);
    await page.waitForSelector('#join-form button:not([disabled])');
    expect(await page.isVisible('#join-form')).toBe(true);
    expect(await page.isVisible('#room-view')).toBe(false);
    await page.fill('#room', nextRoom());
    await page.click('#join-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', null, { timeout: 20_000 });
    expect(await page.isVisible('#room-view')).toBe(true);
    expect(await page.isVisible('#join-form')).toBe(false);
  });

  it('a blank room name, typed or in the link, is asked for in words and not joined', async () => {
    // Only spaces passed the field's `required` and were trimmed to nothing, and the page
    // showed the library's words: 'bad-argument: room must be a non-empty string'.
    const page = await browser.newPage();
    opened.push({ page } as ChatPage);
    await page.goto(`${dev.url}chat/?relay=${encodeURIComponent(relay.address.url)}#room=%20%20`);
    await page.waitForFunction(() => document.getElementById('error')?.dataset.code === 'room-name-empty');
    expect(await page.textContent('#error')).toBe('Enter a room name.');
    await page.fill('#room', '   ');
    await page.click('#join-form button[type=submit]');
    expect(await page.textContent('#error')).toBe('Enter a room name.');
    expect(await page.isVisible('#join-form')).toBe(true);
    expect(await page.textContent('#status')).toBe('not joined');
    // A name then joins.
    await page.fill('#room', nextRoom());
    await page.click('#join-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', null, { timeout: 20_000 });
    expect(await page.isVisible('#error')).toBe(false);
  });

  it('the invite link is shown to copy by hand where the page has no clipboard', async () => {
    // A phone opening the dev server by a LAN address (plain http) has no clipboard: the
    // button did nothing, and the person believed the link was copied.
    const room = nextRoom();
    const p = await openChat(browser, {
      baseUrl: dev.url,
      relay: relay.address.url,
      room,
      beforeGoto: (page) => page.addInitScript(() => delete (Navigator.prototype as { clipboard?: unknown }).clipboard).then(() => {}),
    });
    opened.push(p);
    await p.waitForStatus('connected');
    // prompt() holds the page until answered: answer it from the handler, so the click returns.
    const shown: string[] = [];
    p.page.on('dialog', (d) => void (shown.push(d.defaultValue()), d.dismiss()));
    await p.page.click('#share');
    await expect.poll(() => shown).toEqual([p.page.url()]);
    expect(new URLSearchParams(new URL(shown[0]!).hash.slice(1)).get('room')).toBe(room);
    expect(p.pageErrors).toEqual([]);
  });

  it("another room's link opened in a joined tab moves the tab to that room", async () => {
    // A friend's link pasted into the address bar changes only the hash: the tab used to
    // stay in the old room under the new link, its messages going to the old room's people.
    const a = await open(dev.url, nextRoom());
    await a.waitForStatus('connected');
    const room = nextRoom();
    const b = await open(dev.url, room);
    await b.waitForStatus('connected');
    await a.page.evaluate((r) => (location.hash = `#${new URLSearchParams({ room: r })}`), room);
    await b.waitForPeers(1);
    await a.waitForPeers(1);
    expect(await b.page.getAttribute('#peers li[data-peer-id]', 'data-peer-id')).toBe(await a.selfId());
    await a.say('here in the new room');
    await b.waitForMessage('here in the new room');
    expect(a.pageErrors).toEqual([]);
    expect(b.pageErrors).toEqual([]);
  });

  it('a tab with the wrong password shows a clear error and connects to no one', async () => {
    const room = nextRoom();
    const a = await open(dev.url, room, 'right horse battery');
    await a.page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', null, { timeout: 20_000 });
    const b = await open(dev.url, room, 'wrong password');
    const text = await b.waitForError('wrong-password');
    expect(text).toMatch(/wrong password/i);
    // Nothing can be sent from the closed room: with Send still enabled, a line typed before
    // it closed was shown as said, and went nowhere.
    await b.waitForStatus('closed');
    expect(await b.page.isDisabled('#send-form button[type=submit]')).toBe(true);
    expect(await b.page.locator('#peers li[data-peer-id]').count()).toBe(0);
    expect(await a.page.locator('#peers li[data-peer-id]').count()).toBe(0);
    expect(a.pageErrors).toEqual([]);
    expect(b.pageErrors).toEqual([]);
  });

  it('while the relay is down the tabs say so and keep chatting; they rejoin when it is back', async () => {
    const ownRelay = await startRelay();
    const port = ownRelay.address.port;
    let restarted: SignalingServer | undefined;
    try {
      const { a, b } = await twoTabs(dev.url, ownRelay);

      await ownRelay.close();
      await a.waitForStatus('reconnecting');
      await b.waitForStatus('reconnecting');
      expect(await a.page.getAttribute('#error', 'data-code')).toBe('relay-reconnecting');
      expect(await a.page.isVisible('#error')).toBe(true);
      // The data channels do not need the relay.
      await a.say('said while the relay is down');
      await b.waitForMessage('said while the relay is down');

      restarted = await startRelay(port);
      await a.waitForStatus('connected');
      await b.waitForStatus('connected');
      expect(await a.page.isVisible('#error')).toBe(false);
      expect(await a.page.locator('#peers li[data-peer-id]').count()).toBe(1);
      await b.say('and after it came back');
      await a.waitForMessage('and after it came back');
      expect(a.pageErrors).toEqual([]);
      expect(b.pageErrors).toEqual([]);
    } finally {
      await restarted?.close();
    }
  });

  it('a relay that turns connections away is named as such, while rejoining and when joining', async () => {
    const ownRelay = await startRelay();
    const port = ownRelay.address.port;
    let limited: SignalingServer | undefined;
    let open: SignalingServer | undefined;
    let held: WebSocket | undefined; // takes the relay's only connection
    try {
      const { a, b, viaOwn } = await twoTabs(dev.url, ownRelay);
      // The relay comes back taking one connection per address: one tab gets in, the
      // other is turned away on every try and says why (it keeps retrying).
      await ownRelay.close();
      limited = await startRelay(port, { maxConnectionsPerIp: 1 });
      const texts = async () => Promise.all([a, b].map((p) => p.page.textContent('#error')));
      await waitFor(async () => (await texts()).some((t) => /no more connections from this address/.test(t ?? '')), 'a tab naming the refusal', 30_000);
      const refused = (await texts()).findIndex((t) => /no more connections from this address/.test(t ?? ''));
      expect(await [a, b][refused]!.page.getAttribute('#error', 'data-code')).toBe('relay-reconnecting');
      expect(await [a, b][1 - refused]!.page.getAttribute('#status', 'data-state')).toBe('connected');
      // Chat between the tabs does not need the relay.
      await [a, b][refused]!.say('said while turned away');
      await [a, b][1 - refused]!.waitForMessage('said while turned away');
      await limited.close();
      limited = undefined;
      open = await startRelay(port);
      await a.waitForStatus('connected');
      await b.waitForStatus('connected');
      expect(await a.page.isVisible('#error')).toBe(false);
      expect(await b.page.isVisible('#error')).toBe(false);
      for (const p of [a, b]) expect(p.pageErrors).toEqual([]);
      // A new tab whose every try is turned away ends up saying so, not "unreachable".
      await Promise.all([a, b].map((p) => p.page.close()));
      await open.close();
      open = undefined;
      limited = await startRelay(port, { maxConnections: 1 });
      held = new WebSocket(limited.address.url);
      await new Promise((res, rej) => (held!.once('open', res), held!.once('error', rej)));
      const c = await viaOwn();
      expect(await c.waitForError('relay-unreachable', 45_000)).toMatch(/relay is full/);
      expect(c.pageErrors).toEqual([]);
    } finally {
      held?.close();
      await limited?.close();
      await open?.close();
    }
  }, 120_000);

  it('a browser that will not start WebRTC is told so in words, and the message goes once it connects', async () => {
    const room = nextRoom();
    const a = await open(dev.url, room);
    await a.waitForStatus('connected');
    const b = await openChat(browser, { baseUrl: dev.url, relay: relay.address.url, room, beforeGoto: blockWebRtc });
    opened.push(b);
    // The room emits `transport-failed` for A: said in words, not as the library's message.
    const text = await b.waitForError('transport-failed');
    expect(text).toMatch(/would not start a WebRTC connection/);
    expect(text).not.toMatch(/cannot create a connection|MeshpartyError|RTCPeerConnection/);

    // WebRTC allowed again, and A comes back (a reload: a new peer to connect to).
    await allowWebRtc(b.page);
    await a.page.reload();
    await b.waitForPeers(1);
    // It no longer applies: the banner is gone.
    await b.page.waitForFunction(() => document.getElementById('error')?.hidden === true, null, { timeout: 20_000 });
    expect(a.pageErrors).toEqual([]);
    expect(b.pageErrors).toEqual([]);
  }, 120_000);

  it('a full room is refused with a clear message', async () => {
    const small = await startRelay(0, { maxPeersPerRoom: 1 });
    try {
      const room = nextRoom();
      const a = await openChat(browser, { baseUrl: dev.url, relay: small.address.url, room });
      opened.push(a);
      await a.waitForStatus('connected');
      const b = await openChat(browser, { baseUrl: dev.url, relay: small.address.url, room });
      opened.push(b);
      expect(await b.waitForError('room-full')).toMatch(/room is full/i);
      expect(await b.page.isVisible('#join-form')).toBe(true);
      expect(b.pageErrors).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('a relay that is not there is shown as such, not as a hang', async () => {
    const page = await openChat(browser, { baseUrl: dev.url, relay: 'ws://127.0.0.1:9', room: nextRoom() });
    opened.push(page);
    const text = await page.waitForError('relay-unreachable', 45_000);
    expect(text).toContain('ws://127.0.0.1:9');
    expect(page.pageErrors).toEqual([]);
  }, 60_000);
});

describe('chat demo from a production build', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'meshparty-demos-build-'));
  let served: Served;
  beforeAll(async () => {
    await buildDemos(outDir, ['chat/index.html']);
    served = await startPreview(outDir);
  }, 180_000);
  afterAll(async () => {
    await served?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('builds with a plain Vite config and the built page chats both ways', async () => {
    // The bundle carries simple-peer's browser build, not its Node entry.
    const assets = readdirSync(join(outDir, 'assets')).filter((f) => f.endsWith('.js'));
    const js = assets.map((f) => readFileSync(join(outDir, 'assets', f), 'utf8')).join('\n');
    expect(js).not.toMatch(/__vite-browser-external/);
    const [a, b] = await chatBothWays(served.url);
    expect(a.pageErrors).toEqual([]);
    expect(b.pageErrors).toEqual([]);
  });
});
