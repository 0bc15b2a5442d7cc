/**
 * A raw WebSocket test client for the relay: records every frame it receives and lets a
 * test wait, event-driven, for the next frame matching a predicate or for the close.
 */
import { afterEach } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import type { ServerMessage } from '../../src/signaling-client/protocol.js';
import { createSignalingServer, silentLogger, type LogEntry, type SignalingServer, type SignalingServerOptions } from '../../signaling/index.js';

export type Received = ServerMessage & Record<string, unknown>;

export class RelayTestClient {
  readonly ws: WebSocket;
  readonly received: Received[] = [];
  /** Index of the first frame `next()` has not consumed yet. */
  #cursor = 0;
  #waiters = new Set<() => void>();
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string, options: ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('error', () => {}); // refusals and drops surface through `closed`
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error('closed before open')));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data, isBinary) => {
      if (!isBinary) this.received.push(JSON.parse(data.toString()) as Received);
      for (const w of [...this.#waiters]) w();
    });
    this.ws.on('close', () => {
      for (const w of [...this.#waiters]) w();
    });
  }

  static async open(url: string, options?: ClientOptions): Promise<RelayTestClient> {
    const c = new RelayTestClient(url, options);
    await c.opened;
    return c;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Wait for the next unconsumed frame matching `match` (skipping, and consuming, others). */
  next(match: (m: Received) => boolean = () => true, timeoutMs = 5000): Promise<Received> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        while (this.#cursor < this.received.length) {
          const m = this.received[this.#cursor++]!;
          if (match(m)) {
            done();
            resolve(m);
            return;
          }
        }
        if (this.ws.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`closed while waiting; got ${JSON.stringify(this.received.slice(-3))}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out; last frames ${JSON.stringify(this.received.slice(-3))}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Wait for the next frame of `type` (and, if given, error `code`). */
  nextOf(type: string, code?: string, timeoutMs?: number): Promise<Received> {
    return this.next((m) => m.type === type && (code === undefined || m.code === code), timeoutMs);
  }

  /** Join and return the `joined` reply. */
  async join(room: string, extra: Record<string, unknown> = {}): Promise<Received & { peerId: string; peers: string[] }> {
    this.send({ type: 'join', v: 1, room, ...extra });
    return (await this.next((m) => (m.type === 'joined' || m.type === 'error') && m.room === room)) as Received & {
      peerId: string;
      peers: string[];
    };
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A relay on 127.0.0.1 with an OS-chosen port and a captured log, plus cleanup of clients. */
export async function startRelay(options: SignalingServerOptions = {}): Promise<{
  relay: SignalingServer;
  logs: LogEntry[];
  connect(opts?: ClientOptions): Promise<RelayTestClient>;
  stop(): Promise<void>;
}> {
  const logs: LogEntry[] = [];
  const relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: (e) => logs.push(e), ...options });
  const clients: RelayTestClient[] = [];
  let stopped: Promise<void> | undefined;
  return {
    relay,
    logs,
    async connect(opts) {
      const c = await RelayTestClient.open(relay.address.url, opts);
      clients.push(c);
      return c;
    },
    // Idempotent: a test may stop its relay to read the final log, and the file's cleanup stops it again.
    stop() {
      return (stopped ??= (async () => {
        for (const c of clients) c.close();
        await relay.close();
      })());
    },
  };
}

/** A relay started by {@link startRelay}. */
export type TestRelay = Awaited<ReturnType<typeof startRelay>>;

/**
 * For a test file whose tests each start relays: returns a `startRelay` whose relays are
 * stopped after each test. Call it at the top level of the file.
 */
export function relaysStoppedAfterEach(): (options?: SignalingServerOptions) => Promise<TestRelay> {
  const started: TestRelay[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((r) => r.stop()));
  });
  return async (options = {}) => {
    const r = await startRelay(options);
    started.push(r);
    return r;
  };
}

export { silentLogger };
