/**
 * One unchanged y-webrtc `WebrtcProvider` in its own Node process, driven over IPC by
 * `test/interop/y-webrtc.test.ts`. y-webrtc keeps its rooms in a module-level map, so a
 * second provider for the same room needs a second process: that is why this exists.
 *
 * Env: SIGNALING_URL (ws://127.0.0.1:PORT), ROOM, NAME (for log lines only), and
 * optionally PASSWORD (y-webrtc then encrypts its signaling: `data` becomes base64).
 * IPC in:  { cmd: 'insert', index, text } | { cmd: 'exit' }
 * IPC out: { event: 'ready' } | { event: 'text', value } (after every doc change)
 *          | { event: 'peers', webrtcPeers: string[] } | { event: 'error', message }
 */
import { WebSocket } from 'ws';

// lib0/websocket (used by y-webrtc for signaling) calls the global `WebSocket`;
// Node 20 has none, so give it ws's before y-webrtc is loaded.
(globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;

type Command = { cmd: 'insert'; index: number; text: string } | { cmd: 'exit' };

const send = (msg: object): void => {
  if (process.connected) process.send?.(msg);
};

async function main(): Promise<void> {
  const signalingUrl = process.env.SIGNALING_URL;
  const room = process.env.ROOM;
  if (!signalingUrl || !room) throw new Error('SIGNALING_URL and ROOM are required');

  const Y = await import('yjs');
  const { WebrtcProvider } = await import('y-webrtc');
  const wrtc = (await import('@roamhq/wrtc')).default;

  const doc = new Y.Doc();
  const text = doc.getText('t');
  const provider = new WebrtcProvider(room, doc, {
    signaling: [signalingUrl],
    password: process.env.PASSWORD || undefined,
    peerOpts: { wrtc },
  });

  text.observe(() => send({ event: 'text', value: text.toString() }));
  provider.on('peers', ({ webrtcPeers }: { webrtcPeers: string[] }) => send({ event: 'peers', webrtcPeers }));

  // Exit at once, without provider.destroy(): that broadcasts an awareness removal while
  // the other peers, stopped at the same moment, close their ends, and @roamhq/wrtc
  // crashes (SIGSEGV in RTCDataChannel::Send) when a send races the remote's close: 1 of
  // these processes dumped core in 3 of 13 full runs, after its test had passed.
  const shutdown = (): void => process.exit(0);
  process.on('message', (m: Command) => {
    if (m.cmd === 'insert') text.insert(m.index, m.text);
    else if (m.cmd === 'exit') shutdown();
  });
  // The test runner went away: do not linger as an orphan.
  process.on('disconnect', shutdown);
  send({ event: 'ready' });
}

main().catch((err: unknown) => {
  send({ event: 'error', message: String(err instanceof Error ? err.stack : err) });
  process.exit(1);
});
