/**
 * A WebSocket proxy in front of the relay that records every text frame in both
 * directions: "everything the relay saw", for asserting what never crosses it in clear.
 * (Raw TCP capture would not do: client-to-server WebSocket frames are XOR-masked.)
 */
import WebSocket, { WebSocketServer } from 'ws';

export interface RecordingProxy {
  readonly url: string;
  /** Every frame, in arrival order, as text. */
  readonly frames: string[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const frames: string[] = [];
  const sockets = new Set<WebSocket>();
  wss.on('connection', (client) => {
    const upstream = new WebSocket(target);
    sockets.add(client).add(upstream);
    const pending: string[] = [];
    client.on('message', (d) => {
      const text = d.toString();
      frames.push(text);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else pending.push(text);
    });
    upstream.on('open', () => {
      for (const t of pending.splice(0)) upstream.send(t);
    });
    upstream.on('message', (d) => {
      const text = d.toString();
      frames.push(text);
      if (client.readyState === WebSocket.OPEN) client.send(text);
    });
    const end = () => {
      client.close();
      upstream.close();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  const port = (wss.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    frames,
    close: async () => {
      for (const s of sockets) s.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}
