/**
 * The state one mesh shares between its parts (peer lifecycle, signal handling,
 * liveness, channels): what it knows about each remote peer, who is open, and the
 * room-wide facts (own id, closed). Created by `createMesh`; nothing here is global.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Emitter } from '../util/emitter.js';
import type { MeshpartyError } from '../util/errors.js';
import type { MeshChannel } from './channel.js';
import type { Connection } from './connection.js';
import type { Logger } from './logger.js';
import type { PeerConduct } from './peer-conduct.js';
import type { ResolvedMeshOptions } from './mesh-options.js';
import type { PeerId, PeerInfo, RoomEvents } from './types.js';

/** Everything the mesh knows about one remote peer. */
export interface RemotePeer {
  id: PeerId;
  /** Listed by signaling as a member of the room right now. */
  inRoom: boolean;
  conn: Connection | undefined;
  info: { id: PeerId; rttMs: number | undefined };
  /** Sessions already closed: their late signals are dropped. */
  dead: string[];
  attempts: number;
  retryTimer: TimerHandle | undefined;
  connectTimer: TimerHandle | undefined;
  /** Said goodbye; not reconnected until signaling announces it again. */
  left: boolean;
  /**
   * Pending consider() once `conduct.waitMs` has passed (a ban, or the wait after a
   * password mismatch): the peer may stay in the room all along, and nothing else would
   * connect to it then.
   */
  waitTimer: TimerHandle | undefined;
  /** Signals cannot be decrypted either way (different password). */
  mismatch: boolean;
  /**
   * A signal from this record decrypted, or its connection opened: it shares our
   * password, so a later notice or undecryptable signal "from" it is forged or replayed
   * by the relay and ignored. A peer cannot change its password without leaving the
   * room, which forgets the record.
   */
  verified: boolean;
  /**
   * How many times signaling has reported it gone. A signal that came before a departure
   * but is read after it (decryption is async) is from before the peer left, and is not
   * taken as a sign it is back.
   */
  departures: number;
  /** IVs (as their 16 base64url characters) of the latest signals decrypted from it: a repeat is a replay. */
  seenIvs: Set<string>;
  inbound: Promise<void>;
  outbound: Promise<void>;
}

/** One mesh's shared state. */
export interface MeshContext {
  readonly opts: ResolvedMeshOptions;
  readonly clock: Clock;
  readonly log: Logger;
  readonly events: Emitter<RoomEvents>;
  readonly remotes: Map<PeerId, RemotePeer>;
  /** Peers with an open connection (the room's `peers`). */
  readonly open: Map<PeerId, PeerInfo>;
  /** Channels in use (a listener or a claim), by wire id: where messages are routed (see channel-host.ts). */
  readonly channelsById: Map<number, MeshChannel>;
  /** Strikes, bans and password mismatches by peer id, for the life of the room (records come and go). */
  readonly conduct: PeerConduct;
  /** Own id at the relay; '' until the first join. */
  selfId: PeerId;
  closed: boolean;
  /** Our id is new at the relay since the last join: nobody holds a connection to an older us. */
  freshIdentity: boolean;
  /** Peers already in the room when we first joined: their password is the room's. */
  olderPeers: Set<PeerId>;
  /** Report a fatal error and leave the room. */
  fail(err: MeshpartyError): void;
}

/** The record of `id`, created (not in the room, no connection) if there is none. */
export function remotePeer(ctx: MeshContext, id: PeerId): RemotePeer {
  let r = ctx.remotes.get(id);
  if (!r) {
    r = {
      id,
      inRoom: false,
      conn: undefined,
      info: { id, rttMs: undefined },
      dead: [],
      attempts: 0,
      retryTimer: undefined,
      connectTimer: undefined,
      left: false,
      waitTimer: undefined,
      mismatch: false,
      verified: false,
      departures: 0,
      seenIvs: new Set(),
      inbound: Promise.resolve(),
      outbound: Promise.resolve(),
    };
    ctx.remotes.set(id, r);
  }
  return r;
}

/**
 * Signaling shows `r` in the room: its join, or a signal from it through the relay. When
 * signaling had reported `r` gone while a connection to it stayed open (kept while the
 * peer is probed), that connection may belong to the previous process of a peer restarted
 * under the same id: it is marked, so a late BYE on it does not keep the new process out.
 */
export function announced(r: RemotePeer): void {
  if (r.conn && !r.inRoom) r.conn.announcedAgain = true;
  r.inRoom = true;
  r.left = false;
}
