/**
 * Many plain WebSocket clients in one process, for load generation. Each counts the
 * frames it receives and hands them to an optional per-client handler as text; nothing
 * is parsed unless the handler does it, so the load generator stays cheap.
 */
import { WebSocket } from 'ws';

export interface LoadClient {
  readonly index: number;
  readonly ws: WebSocket;
  /** Frames received since open (or since the last `resetCounts`). */
  frames: number;
  /** Called for every received frame, after `frames` is counted. */
  onFrame: ((text: string) => void) | null;
  /** Send one JSON frame. */
  send(msg: unknown): void;
}

/**
 * Open `n` clients to `url`, at most `concurrency` handshakes in flight (a burst of
 * hundreds of simultaneous handshakes measures the TCP backlog, not the server).
 * Compression is off: both sides of every comparison then do the same work per frame.
 */
export async function openClients(url: string, n: number, concurrency = 50, timeoutMs = 30_000): Promise<LoadClient[]> {
  const clients: LoadClient[] = new Array(n);
  let next = 0;
  const openOne = (index: number): Promise<LoadClient> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const client: LoadClient = {
        index,
        ws,
        frames: 0,
        onFrame: null,
        send: (msg) => ws.send(JSON.stringify(msg)),
      };
      const timer = setTimeout(() => (ws.terminate(), reject(new Error(`client ${index}: no open after ${timeoutMs} ms`))), timeoutMs);
      ws.on('message', (data: Buffer) => {
        client.frames++;
        client.onFrame?.(data.toString());
      });
      ws.once('open', () => (clearTimeout(timer), resolve(client)));
      ws.once('error', (err) => (clearTimeout(timer), reject(err)));
    });
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      clients[i] = await openOne(i);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  } catch (err) {
    closeClients(clients.filter(Boolean));
    throw err;
  }
  return clients;
}

/** Total frames received by `clients`. */
export function totalFrames(clients: readonly LoadClient[]): number {
  let sum = 0;
  for (const c of clients) sum += c.frames;
  return sum;
}

/** Zero every client's frame counter (start of a new phase). */
export function resetCounts(clients: readonly LoadClient[]): void {
  for (const c of clients) c.frames = 0;
}

/** Close every client at once, without waiting for the server's close frames. */
export function closeClients(clients: readonly LoadClient[]): void {
  for (const c of clients) c.ws.terminate();
}

/** Poll until `check()` is true; rejects with `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
