/**
 * The editor demo's status line in headless Chromium, for trouble the room lives on with:
 * a page whose browser will not start WebRTC connections says so in words (not the
 * library's raw message), keeps saying so while it holds, and goes back to "connected"
 * once it connects to someone.
 */
import { describe, expect, it } from 'vitest';
import { allowWebRtc, blockWebRtc } from '../support/webrtc-switch.js';
import { type EditorPage, roomHash, statusOf } from './support/editor-page.js';
import { editorHarness } from './support/editor-harness.js';

const editors = editorHarness();
const open = editors.open;

const peerCount = (p: EditorPage) => p.page.textContent('#peer-count');

describe('editor demo: status while the room lives with an error', () => {
  it('a browser that will not start WebRTC is told so in words until it connects to someone', async () => {
    const room = roomHash(`no-webrtc-${process.pid}`);
    const ada = await open(room);
    await expect.poll(() => statusOf(ada), { timeout: 60_000 }).toMatchObject({ state: 'connected' });

    const bob = await open(room, blockWebRtc);
    // The room emits `transport-failed` for Ada; the status says what it means.
    await expect.poll(() => statusOf(bob), { timeout: 60_000, interval: 200 }).toMatchObject({
      state: 'warning',
      text: expect.stringMatching(/would not start a WebRTC connection/),
    });
    const shown = await statusOf(bob);
    expect(shown.text).not.toMatch(/cannot create a connection|MeshpartyError|RTCPeerConnection/);
    expect(await peerCount(bob)).toBe('0 peers');

    // WebRTC allowed again, and Ada comes back (a reload: a new peer to connect to).
    await allowWebRtc(bob.page);
    await ada.page.reload();
    await expect.poll(() => peerCount(bob), { timeout: 60_000, interval: 200 }).toBe('1 peer');
    // It no longer applies: the status is back to plain "connected".
    await expect.poll(() => statusOf(bob), { timeout: 20_000, interval: 200 }).toEqual({ state: 'connected', text: 'connected' });
    for (const p of [ada, bob]) expect(p.errors).toEqual([]);
  }, 180_000);
});
