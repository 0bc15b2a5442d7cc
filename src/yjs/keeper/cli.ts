/**
 * `meshparty keeper --relay ws://... --room R [--room R2 ...] --dir ./data [--password P] [--webrtc E]`
 *
 * Runs a keeper until SIGINT/SIGTERM: joins the rooms over real WebRTC through the relay,
 * stores every document with content it hears of under `--dir`, and serves them to peers
 * who join when nobody else is online. A signal while it is still starting stops the startup at once
 * (see {@link createKeeperCommand}). The Node WebRTC is `@roamhq/wrtc` when it can be loaded, else
 * node-datachannel (through `adaptNodeDatachannel`); `--webrtc` picks one. With the relay's
 * secret in MESHPARTY_RELAY_SECRET it signs its own room token at each join (a relay that
 * requires tokens refused the keeper with token-required).
 */
import { parseArgs } from 'node:util';
import { createKeeper, type Keeper } from './keeper.js';
import type { FsyncPolicy } from './update-log.js';
import type { Room } from '../../mesh/types.js';
import { loadNodeWebRtc, type NodeWebRtcEngine } from '../../transport/node-webrtc.js';
import type { WebRtcImplementation } from '../../transport/simple-peer.js';
import { keepRunningWhenOutputCloses } from '../../util/closed-output.js';
import { MeshpartyError } from '../../util/errors.js';
import { watchStopSignals } from './stop-signals.js';

/** Parsed command line of the keeper. */
export interface KeeperArgs {
  relay: string;
  rooms: string[];
  dir: string;
  password: string | undefined;
  fsync: FsyncPolicy;
  /** The WebRTC to use; undefined: @roamhq/wrtc if it loads, else node-datachannel. */
  webrtc: NodeWebRtcEngine | undefined;
  /** The relay's secret (env {@link RELAY_SECRET_ENV} only), to sign a room token for each join. */
  relaySecret: string | undefined;
}

const USAGE = `usage: meshparty keeper --relay ws://HOST:PORT --room NAME [--room NAME ...] --dir DIR [--password P] [--fsync always|never] [--webrtc wrtc|node-datachannel]`;

/** The environment variable the rooms' password may come from instead of `--password` (kept out of `ps`). */
export const PASSWORD_ENV = 'MESHPARTY_ROOM_PASSWORD';
/** The relay's secret, the same variable `meshparty signal` reads: with it the keeper signs its own room tokens. */
export const RELAY_SECRET_ENV = 'MESHPARTY_RELAY_SECRET';
/**
 * How long a token the keeper signs is good for. One is signed per join; the relay checks
 * it again when the keeper's socket comes back after a relay restart, and a refusal then
 * ends the room for good, so it must outlive any run of the keeper. It never leaves the
 * keeper's process but to the relay that holds the same secret.
 */
export const KEEPER_TOKEN_SECONDS = 365 * 24 * 3600;

/**
 * Parse the keeper's arguments; throws `MeshpartyError('bad-argument')` carrying the usage
 * line when they are wrong. `env` is where {@link PASSWORD_ENV} and {@link RELAY_SECRET_ENV}
 * are read (the CLI passes `process.env`); `--password` wins over the first.
 *
 * @example
 * ```ts
 * const args = parseKeeperArgs(['--relay', 'ws://127.0.0.1:4444', '--room', 'notes', '--dir', './data'], process.env);
 * ```
 */
export function parseKeeperArgs(argv: string[], env: Readonly<Record<string, string | undefined>> = {}): KeeperArgs {
  const usageError = (problem: string) => new MeshpartyError('bad-argument', `${problem}\n${USAGE}`);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        relay: { type: 'string' },
        room: { type: 'string', multiple: true },
        dir: { type: 'string' },
        password: { type: 'string' },
        fsync: { type: 'string', default: 'always' },
        webrtc: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw usageError((err as Error).message); // an unknown option, a missing value
  }
  if (values.help) throw new MeshpartyError('bad-argument', USAGE);
  if (!values.relay || !values.room?.length || !values.dir) throw usageError('--relay, --room and --dir are required');
  if (values.fsync !== 'always' && values.fsync !== 'never') throw usageError('--fsync must be always or never');
  const password = values.password ?? env[PASSWORD_ENV];
  // `--password "$PW"` with PW unset: a keeper with the empty password cannot decrypt any
  // peer's signals, its rooms close with wrong-password and it runs on keeping nothing.
  if (password === '') throw usageError(`--password (or ${PASSWORD_ENV}) is empty; leave it out for a room without a password`);
  const webrtc = values.webrtc;
  if (webrtc !== undefined && webrtc !== 'wrtc' && webrtc !== 'node-datachannel') throw usageError('--webrtc must be wrtc or node-datachannel');
  const relaySecret = env[RELAY_SECRET_ENV];
  if (relaySecret === '') throw usageError(`${RELAY_SECRET_ENV} is empty; leave it unset for a relay without tokens`);
  return { relay: values.relay, rooms: values.room, dir: values.dir, password, fsync: values.fsync, webrtc, relaySecret };
}

/** How the keeper joins a room over WebRTC; injected so this module stays free of platform imports. */
export type JoinOverRelay = (options: { relay: string; room: string; password?: string; token?: string; signal?: AbortSignal }) => Promise<Room>;
/**
 * Signs a room token with the relay's secret (the relay's `createRoomToken`, injected: this
 * layer does not import `signaling/`).
 */
export type SignRoomToken = (options: { secret: string; room: string; expiresInSeconds: number }) => string;

/**
 * The `keeper` entry of the `meshparty` CLI table (same shape as the relay's
 * `Subcommand`, written out so this layer does not import from `signaling/`, which hands
 * in `signRoomToken` for {@link RELAY_SECRET_ENV}). Runs until
 * SIGINT/SIGTERM, then closes the keeper (flushing every log) and resolves to 0. A signal
 * while the rooms are still being joined aborts the startup (the rooms joined so far are
 * left, their logs flushed and closed, the lock released) and also resolves to 0. A
 * second signal ends the process at once.
 */
export const createKeeperCommand = (signRoomToken?: SignRoomToken) => ({
  summary: 'keep documents of rooms on disk and serve them to peers (a Node peer over WebRTC)',
  usage: [
    USAGE,
    '',
    '  --relay URL        the relay to join through (ws://...)',
    '  --room NAME        a room to keep (repeat for several)',
    '  --dir DIR          where documents are stored: one append-only log per document',
    '  --password P       the rooms\' password (signals are end-to-end encrypted with it;',
    `                     or env ${PASSWORD_ENV}, which keeps it out of ps)`,
    '  --fsync always|never  fsync after every batch of appends (default always)',
    '  --webrtc ENGINE    the WebRTC for Node: wrtc (@roamhq/wrtc) or node-datachannel',
    '                     (default: wrtc if it can be loaded, else node-datachannel)',
    `  env ${RELAY_SECRET_ENV}  the relay's secret, when it requires room tokens: the keeper`,
    '                     signs its own token for each room it joins',
  ].join('\n'),
  async run(args: string[]): Promise<number> {
    // Listen from the start: a signal while the rooms are still being joined (against a
    // relay that never answers, ~50 s of timeouts and retries) must stop the startup now,
    // closing what it opened, not kill the process mid-write nor wait for the joins.
    const stop = watchStopSignals();
    // A keeper is left running under supervisors and pipes; its console lines are courtesy.
    keepRunningWhenOutputCloses();
    try {
      const { webrtc } = parseKeeperArgs(args, process.env); // a usage error before any native module loads
      const loaded = await loadNodeWebRtc(webrtc);
      console.log(`[meshparty keeper] WebRTC: ${loaded.engine}${webrtc ? '' : ' (default)'}`);
      const keeper = await runKeeperCli(args, await webrtcJoin(loaded.wrtc), stop.signal, process.env, signRoomToken);
      await stop.stopped;
      await keeper.close();
    } catch (err) {
      if (!(err instanceof MeshpartyError)) throw err;
      if (err.code === 'aborted' && stop.signal.aborted) {
        console.log(`[meshparty keeper] ${String(stop.signal.reason)}: stopped before it was up (${err.message}); the rooms joined are left, their logs flushed and closed, the lock released`);
      } else {
        throw new Error(`${err.message} [${err.code}]`); // the CLI prints only the message: keep the stable code in it
      }
    } finally {
      stop.dispose();
      // The logs are flushed and closed by now (or never opened). End with process.exit
      // (the code the CLI sets: 0, or 1 after printing an error), never by letting the
      // event loop drain: @roamhq/wrtc 0.10.0 can crash with SIGSEGV in its peer
      // connections' finalizers while Node tears down after a natural exit (a core dump
      // from CI: ~RTCPeerConnection in FreeEnvironment, 1 of 150 stops here). The timer
      // holds the loop open, so the process cannot drain before it fires.
      setTimeout(() => process.exit(), 100);
    }
    return 0;
  },
});

/** joinRoom over real WebRTC in Node with `wrtc` and ws, loaded only when the keeper runs. */
async function webrtcJoin(wrtc: WebRtcImplementation): Promise<JoinOverRelay> {
  const [{ joinRoom }, { WebSocket }] = await Promise.all([import('../../mesh/join-room.js'), import('ws')]);
  return (o) => joinRoom({ ...o, wrtc, WebSocket: WebSocket as never });
}

/**
 * Start a keeper from command-line arguments (and `env`, see {@link parseKeeperArgs});
 * resolves with it once every room is joined. `signRoomToken` signs its room tokens when
 * {@link RELAY_SECRET_ENV} is set. Aborting `signal` before then rejects with
 * `aborted` (see `KeeperOptions.signal`).
 *
 * @example
 * ```ts
 * const keeper = await runKeeperCli(process.argv.slice(3), join, AbortSignal.timeout(60_000), process.env, createRoomToken);
 * ```
 */
export async function runKeeperCli(
  argv: string[],
  join: JoinOverRelay,
  signal?: AbortSignal,
  env: Readonly<Record<string, string | undefined>> = {},
  signRoomToken?: SignRoomToken,
): Promise<Keeper> {
  const args = parseKeeperArgs(argv, env);
  const { relaySecret } = args;
  if (relaySecret !== undefined && !signRoomToken) throw new MeshpartyError('bad-argument', `${RELAY_SECRET_ENV} is set but nothing was given to sign room tokens with`);
  // Signed at each join (a rejoin after a failure too), for that room only.
  const token = (room: string) => (relaySecret === undefined ? undefined : signRoomToken!({ secret: relaySecret, room, expiresInSeconds: KEEPER_TOKEN_SECONDS }));
  const keeper = await createKeeper({
    signal,
    rooms: args.rooms,
    dir: args.dir,
    fsync: args.fsync,
    join: (room, joinSignal) => join({ relay: args.relay, room, password: args.password, token: token(room), signal: joinSignal }),
  });
  console.log(`[meshparty keeper] keeping ${args.rooms.join(', ')} in ${args.dir} via ${args.relay}`);
  return keeper;
}
