/**
 * A TCP proxy in front of a test redis-server, for an instance whose link to Redis must
 * fail at an exact point: `cutAfterPublish()` lets the next PUBLISH a client sends reach
 * Redis, then cuts that connection, dropping every byte the client sent after it (never
 * executed), and the proxy stays down (new connections refused) until `restore()`.
 * `cut()` drops every connection at once and stays down likewise: an instance cut off.
 * `holdReplies()` keeps what Redis sends its clients (replies, pub/sub news) until
 * `releaseReplies()`: the instance hears nothing meanwhile. Client commands are parsed as
 * RESP arrays, so a cut falls between two commands whatever the TCP chunks.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface RedisProxy {
  /** redis://127.0.0.1:<proxy port> */
  readonly url: string;
  /** Resolves once the next PUBLISH went through and its connection was cut. */
  cutAfterPublish(): Promise<void>;
  /** Cut every connection now, and refuse new ones until `restore()`. */
  cut(): void;
  /** Accept connections again after a cut. */
  restore(): void;
  holdReplies(): void;
  releaseReplies(): void;
  close(): Promise<void>;
}

/** The byte length of the first whole command (a RESP array of bulk strings) in `buf`, and its name. */
function firstCommand(buf: Buffer): { length: number; name: string } | undefined {
  let at = 0;
  const line = (): string | undefined => {
    const end = buf.indexOf('\r\n', at);
    if (end < 0) return undefined;
    const text = buf.toString('latin1', at, end);
    at = end + 2;
    return text;
  };
  const head = line();
  if (head === undefined) return undefined;
  if (!head.startsWith('*')) throw new Error(`redis-proxy: not a RESP array: ${head.slice(0, 40)}`);
  let name = '';
  for (let i = 0; i < Number(head.slice(1)); i++) {
    const size = line();
    if (size === undefined) return undefined;
    const end = at + Number(size.slice(1));
    if (buf.length < end + 2) return undefined;
    if (i === 0) name = buf.toString('latin1', at, end).toUpperCase();
    at = end + 2;
  }
  return { length: at, name };
}

export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  let cut: (() => void) | undefined;
  let down = false;
  let holding = false;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(redisPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (d: Buffer) => (holding ? held.push(() => client.write(d)) : client.write(d)));
    let pending = Buffer.alloc(0);
    let dropping = false;
    client.on('data', (chunk: Buffer) => {
      if (dropping) return;
      pending = Buffer.concat([pending, chunk]);
      for (let c = firstCommand(pending); c; c = firstCommand(pending)) {
        upstream.write(pending.subarray(0, c.length));
        pending = pending.subarray(c.length);
        if (cut && c.name === 'PUBLISH') {
          // Redis reads what was written before the end of the stream, then drops the
          // connection (discarding a MULTI never EXECed); the client loses it at once.
          dropping = true;
          down = true;
          upstream.end();
          client.destroy();
          const done = cut;
          cut = undefined;
          done();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    url: `redis://127.0.0.1:${port}`,
    cutAfterPublish: () => new Promise<void>((resolve) => (cut = resolve)),
    cut: () => {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      down = false;
    },
    holdReplies: () => {
      holding = true;
    },
    releaseReplies: () => {
      holding = false;
      for (const write of held.splice(0)) write();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
