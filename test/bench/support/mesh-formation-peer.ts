/**
 * One peer of the mesh-formation benchmark, in its own Node process, able to join a
 * room either with meshparty (`joinRoom`) or with y-webrtc (`WebrtcProvider`). The
 * parent spawns every process first and waits for `ready` (modules loaded, WebRTC
 * native binding warmed), then tells them all to join at once; each reports the moment
 * it sees a full mesh, on the shared wall clock.
 *
 * IPC in:  { cmd: 'join', kind: 'meshparty' | 'y-webrtc', url, room, n } | { cmd: 'leave' } | { cmd: 'exit' }
 * IPC out: { event: 'ready' } | { event: 'full', at, joinedAt, steps, cpuMs } | { event: 'left', open } | { event: 'error', message }
 */
import { WebSocket } from 'ws';

// lib0/websocket (y-webrtc's signaling) uses the global WebSocket; Node 20 has none.
(globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;

type Command =
  | { cmd: 'join'; kind: 'meshparty' | 'y-webrtc'; url: string; room: string; n: number }
  | { cmd: 'leave' }
  | { cmd: 'exit' };

const send = (msg: object): void => {
  if (process.connected) process.send?.(msg);
};
const now = (): number => performance.timeOrigin + performance.now();
/** This process's CPU time in ms (user + system, all threads, WebRTC's included). */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Polled at the same period for both libraries so neither gets a finer clock. */
const POLL_MS = 5;

async function main(): Promise<void> {
  const wrtc = (await import('@roamhq/wrtc')).default;
  const Y = await import('yjs');
  const { WebrtcProvider } = await import('y-webrtc');
  const { joinRoom } = await import('../../../src/index.js');
  // Load the native binding and its threads before the clock starts.
  new wrtc.RTCPeerConnection().close();

  let leave: (() => Promise<void>) | null = null;
  let openCount = (): number => 0;
  let poll: ReturnType<typeof setInterval> | null = null;

  /** When the open-connection count first reached 1, 2, ... (for profiling). */
  let steps: number[] = [];
  let joinedAt = 0;
  let cpuAtJoin = 0;
  const watch = (open: () => number, n: number): void => {
    openCount = open;
    steps = [];
    poll = setInterval(() => {
      const k = open();
      while (steps.length < k) steps.push(now());
      if (k < n - 1) return;
      send({ event: 'full', at: now(), joinedAt, steps, cpuMs: cpuMs() - cpuAtJoin });
      if (poll) clearInterval(poll);
      poll = null;
    }, POLL_MS);
  };

  const join = async (c: Extract<Command, { cmd: 'join' }>): Promise<void> => {
    joinedAt = 0;
    cpuAtJoin = cpuMs();
    if (c.kind === 'y-webrtc') {
      const doc = new Y.Doc();
      const provider = new WebrtcProvider(c.room, doc, { signaling: [c.url], peerOpts: { wrtc } });
      type Conn = { connected: boolean };
      watch(() => {
        const conns = (provider.room as unknown as { webrtcConns: Map<string, Conn> } | null)?.webrtcConns;
        let open = 0;
        for (const conn of conns?.values() ?? []) if (conn.connected) open++;
        return open;
      }, c.n);
      leave = async () => {
        provider.destroy();
        doc.destroy();
      };
    } else {
      joinedAt = 0;
      const room = await joinRoom({ relay: c.url, room: c.room, wrtc, WebSocket });
      joinedAt = now();
      watch(() => room.peers.size, c.n);
      leave = () => room.leave();
    }
  };

  process.on('message', (m: Command) => {
    if (m.cmd === 'join') {
      join(m).catch((err: unknown) => send({ event: 'error', message: String(err instanceof Error ? err.stack : err) }));
    } else if (m.cmd === 'leave') {
      if (poll) clearInterval(poll);
      poll = null;
      const l = leave;
      const open = openCount();
      leave = null;
      openCount = () => 0;
      void (l ? l() : Promise.resolve()).finally(() => send({ event: 'left', open }));
    } else if (m.cmd === 'exit') {
      setTimeout(() => process.exit(0), 20);
    }
  });
  // The bench went away: do not linger as an orphan.
  process.on('disconnect', () => process.exit(0));
  send({ event: 'ready' });
}

main().catch((err: unknown) => {
  send({ event: 'error', message: String(err instanceof Error ? err.stack : err) });
  process.exit(1);
});
