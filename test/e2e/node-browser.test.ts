/**
 * A Node peer and a browser tab in one room: the chat demo in headless Chromium, and a
 * Node process member (joinRoom with an injected WebRTC) speaking the demo's chat
 * messages, on each Node engine meshparty supports. This is the keeper's situation (a
 * Node peer serving browser peers) and any app that embeds the mesh in a server.
 */
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeChatMessage, encodeChatMessage } from '../../demos/chat/chat-message.js';
import type { SignalingServer } from '../../signaling/index.js';
import { joinRoom } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import type { WebRtcImplementation } from '../../src/transport/simple-peer.js';
import { launchChromium } from '../support/browser.js';
import { waitFor } from '../support/net.js';
import { NODE_WEBRTC_ENGINES, nodeWebRtc } from '../support/node-webrtc.js';
import { openChat, type ChatPage } from './support/chat-page.js';
import { startDevServer, startRelay, type Served } from './support/demo-servers.js';

let browser: Browser;
let relay: SignalingServer;
let dev: Served;
const pages: ChatPage[] = [];
const rooms: Room[] = [];
const quiet = { debug: () => {}, warn: () => {} };

beforeAll(async () => {
  browser = await launchChromium();
  relay = await startRelay();
  dev = await startDevServer();
});

afterAll(async () => {
  await Promise.allSettled(rooms.map((r) => r.leave()));
  await Promise.allSettled(pages.map((p) => p.page.close()));
  await browser?.close();
  await dev?.close();
  await relay?.close();
});

const engines = await Promise.all(NODE_WEBRTC_ENGINES.map(async (e) => [e, await nodeWebRtc(e)] as [string, WebRtcImplementation]));

describe.each(engines)('a Node peer on %s and a Chromium tab', (engine, wrtc) => {
  it('connect through the relay and chat both ways', async () => {
    const roomName = `node-browser-${engine.replace(/\W/g, '')}-${process.pid}`;
    const tab = await openChat(browser, { baseUrl: dev.url, relay: relay.address.url, room: roomName });
    pages.push(tab);
    const room = await joinRoom({ relay: relay.address.url, room: roomName, wrtc, WebSocket, logger: quiet });
    rooms.push(room);
    const chat = room.channel('chat');
    const heard: string[] = [];
    chat.on('message', ({ data }) => {
      const m = decodeChatMessage(data);
      if (typeof m !== 'string' && m.t === 'say') heard.push(m.text);
    });
    room.on('peer-joined', ({ id }) => void chat.send(id, encodeChatMessage({ t: 'hello', name: `node ${engine}` })));

    await tab.waitForPeers(1);
    await waitFor(() => room.peers.size === 1, 'the Node peer sees the tab', 30_000);
    // The tab lists the Node peer under the name it announced.
    await tab.page.waitForFunction((name) => document.querySelector('#peers')?.textContent?.includes(name), `node ${engine}`, { timeout: 20_000 });

    await chat.broadcast(encodeChatMessage({ t: 'say', text: `hello from Node on ${engine}` }));
    await tab.waitForMessage(`hello from Node on ${engine}`);
    await tab.say('and back from Chromium ✓');
    await waitFor(() => heard.includes('and back from Chromium ✓'), 'the tab\'s message in Node', 20_000);
    expect(tab.pageErrors).toEqual([]);

    // Leaving is seen by the tab as a departure, not as a hang.
    await room.leave();
    await tab.waitForPeers(0);
  });
});

describe('chat history from a Node peer', () => {
  it('a tab shows history lines once, in time order, a line dated in the future not below later ones, and drops a malformed history', async () => {
    const [engine, wrtc] = engines[0]!;
    const roomName = `node-history-${engine.replace(/\W/g, '')}-${process.pid}`;
    const tab = await openChat(browser, { baseUrl: dev.url, relay: relay.address.url, room: roomName });
    pages.push(tab);
    const room = await joinRoom({ relay: relay.address.url, room: roomName, wrtc, WebSocket, logger: quiet });
    rooms.push(room);
    const chat = room.channel('chat');
    const now = Date.now();
    const history = encodeChatMessage({
      t: 'history',
      lines: [
        { id: 'a1', at: now - 60_000, text: 'a minute ago' },
        { id: 'a2', at: now + 3_600_000, text: 'dated an hour ahead' },
      ],
    });
    room.on('peer-joined', ({ id }) => {
      void chat.send(id, encodeChatMessage({ t: 'hello', name: 'node' }));
      void chat.send(id, history);
    });
    await tab.waitForPeers(1);
    await tab.waitForMessage('dated an hour ahead');
    // Heard again (as after a reconnect), and live with an id already shown: nothing new.
    await chat.broadcast(history);
    await chat.broadcast(encodeChatMessage({ t: 'say', text: 'a minute ago', id: 'a1', at: now }));
    await chat.broadcast(new TextEncoder().encode(JSON.stringify({ t: 'history', lines: [{ id: 'x', at: 1, text: '' }] })));
    await chat.broadcast(encodeChatMessage({ t: 'say', text: 'live now', id: 'a3', at: Date.now() }));
    await tab.waitForMessage('live now');
    const lines = await tab.page.evaluate(() => [...document.querySelectorAll('#log li.chat')].map((li) => li.textContent ?? ''));
    expect(lines).toEqual(['nodea minute ago', 'nodedated an hour ahead', 'nodelive now']);
    expect(tab.pageErrors).toEqual([]);
  });
});
