/**
 * The state one lockstep session shares between its parts (session.ts wires them):
 * who the members are and since when, their input streams, what is being agreed (joins,
 * drops), hashes, timers and figures, plus the few helpers every part asks (members,
 * coordinator, sending control, guarding against bad messages). Fields are plain and
 * public to the parts; nothing here is exported from the package.
 */
import type { Channel, PeerId, Room } from '../mesh/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Emitter } from '../util/emitter.js';
import { MeshpartyError } from '../util/errors.js';
import type { Admission } from './admission.js';
import type { ControlRelay } from './control-relay.js';
import type { Departures } from './departures.js';
import type { DropAgreement } from './drop-agreement.js';
import type { Game } from './game.js';
import type { HashExchange } from './hash-exchange.js';
import { HashBook } from './hash-book.js';
import { InputDelay } from './input-delay.js';
import type { InputExchange } from './input-exchange.js';
import type { InputRelay } from './input-relay.js';
import type { InputStream } from './input-stream.js';
import type { JoinProposals } from './join-proposals.js';
import type { Recorder } from './replay.js';
import type { LockstepEvents, LockstepSessionOptions } from './session-api.js';
import type { LobbyWait } from './lobby-wait.js';
import type { SilentMembers } from './silent-members.js';
import type { Simulation } from './simulation.js';
import type { SpectatorLinks } from './spectator-links.js';
import type { SplitGames } from './split-games.js';
import type { Ticker } from './ticker.js';
import { type Control, type Kind, type Role, type SessionConfig, encodeControl } from './wire.js';

/** Plain code-unit order: the same on every engine (never localeCompare). */
export const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Names one admission of a peer: a peer dropped and admitted again is another admission. */
export const admissionKey = (peer: PeerId, since: number) => `${peer}\u0000${since}`;
/** Decided drops and reports for admissions not (yet) known are kept this many at most. */
export const KEEP_ADMISSION_RECORDS = 64;
const MAX_BAD = 100;

export type JoinMessage = Extract<Control, { kind: typeof Kind.join }>;
export type DropMessage = Extract<Control, { kind: typeof Kind.drop }>;

export class SessionCore<S, I> {
  status: 'lobby' | 'joining' | 'running' | 'stopped' = 'lobby';
  role: Role;

  readonly room: Room;
  readonly game: Game<S, I>;
  readonly clock: Clock;
  readonly opts: LockstepSessionOptions<S, I>;
  readonly events: Emitter<LockstepEvents>;
  readonly log: (m: string) => void;
  readonly byteLength: number | undefined;
  readonly neutral: Uint8Array;
  readonly prefix: string;
  readonly ctl: Channel;
  /** The input channel of the current generation (see inputChannelName), once it is known. */
  in: Channel | undefined;
  offInput: (() => void) | undefined;
  offs: Array<() => void> = [];

  // The parts, set by the session right after this is made.
  admission!: Admission<S, I>;
  proposals!: JoinProposals<S, I>;
  departures!: Departures<S, I>;
  inputs!: InputExchange<S, I>;
  relay!: InputRelay<S, I>;
  control!: ControlRelay<S, I>;
  hashing!: HashExchange<S, I>;
  ticker!: Ticker<S, I>;
  links!: SpectatorLinks<S, I>;
  silent!: SilentMembers<S, I>;
  lobbyWait!: LobbyWait<S, I>;
  splits!: SplitGames<S, I>;

  /** The agreed session parameters; `delay` is the start's input delay (every stream's neutral prefill at a start or join), not this player's current one (`delays.current`). */
  config: SessionConfig = { seed: 0, tickHz: 60, delay: 2, hashEvery: 10 };
  gen = 0;
  sim: Simulation<S, I> | undefined;
  recorder: Recorder | undefined;
  localInput: Uint8Array;

  /** Input streams of players (including this peer's own), by player. */
  streams = new Map<PeerId, InputStream>();
  /** Next frame this peer will sample an input for. */
  myNext = 0;
  /** Peers this peer sends inputs to, with the next frame each still needs. */
  receivers = new Map<PeerId, number>();
  /** Next input frame each player announced (first + count of its latest packet). */
  remoteNext = new Map<PeerId, number>();
  spectators = new Set<PeerId>();
  /** Each member's admission: the frame from which it computes the state (start or join frame). */
  since = new Map<PeerId, number>();
  joinsAt = new Map<number, PeerId[]>();
  dropsAt = new Map<number, PeerId[]>();
  leaving = new Set<PeerId>();
  dropped = new Set<PeerId>();
  reportSentTo = new Map<PeerId, PeerId>();
  /** Coordinator: reports by admission (key of leaver and its `since`). */
  agreements = new Map<string, DropAgreement>();
  /** Every drop this peer applied, by admission: answers a late report, applies to a join heard late. */
  decidedDrops = new Map<string, DropMessage>();
  /** Leaves of admissions this peer has not heard of yet (their join may still be on its way). */
  earlyLeaves = new Set<string>();
  /** Who proposed each member's admission, for members admitted while this peer played. */
  proposer = new Map<PeerId, PeerId>();
  /** Joins of a peer still here under an earlier admission: applied once that one is stepped out. */
  deferredJoins: Array<{ from: PeerId; m: JoinMessage }> = [];
  /** Highest join frame of each peer this peer has applied (the rate limit of its admissions). */
  lastAdmission = new Map<PeerId, number>();
  /**
   * The admission (start or join frame) of each peer in which a packet of it reached us: it
   * heard of that admission, so a hello of it whose `after` is not past it is stale. Not so
   * for an admission it never sent anything in: its join may have been lost with a
   * connection of the coordinator that sent it (JoinProposals.maybeAdmit).
   */
  heardIn = new Map<PeerId, number>();
  /**
   * The admission each peer told us itself (its own `leave`) it left. Its hellos from then
   * on are never stale, `after` or not: a new session of it (its first asks for frame 0)
   * would otherwise never be admitted again (JoinProposals.maybeAdmit).
   */
  leftItself = new Map<PeerId, number>();
  /** Earliest join frame this peer accepts: past every frame of an admission it already left. */
  notBefore = 0;
  /** Coordinator: joins proposed and not yet acknowledged by every member. */
  pendingJoins = new Map<PeerId, { atFrame: number; acks: Set<PeerId>; expect: Set<PeerId>; role: Role }>();
  /** Coordinator: snapshots to send when the simulation reaches a frame. */
  snapshotsAt = new Map<number, PeerId[]>();
  /** The peer whose start began our game (undefined for a late joiner): a concurrent start is judged against it. */
  starter: PeerId | undefined;
  /** The coordinator that admitted us (our coordinator until the snapshot arrives). */
  joinedVia: PeerId | undefined;
  /** When we took that join (clock time): its snapshot is due within SNAPSHOT_DEADLINE_MS. */
  joinedAt = 0;
  /** Admissions in a row that ended `no-snapshot`: each doubles the next deadline (see Admission.snapshotOverdue). */
  snapshotMisses = 0;
  /** Latest hello of each peer (`relayed`: passed on by a player, control-relay.ts). */
  hellos = new Map<PeerId, { role: Role; started: boolean; connected: PeerId[]; after: number; relayed?: boolean }>();
  /** The peers each peer said (in its latest hello, kept while it plays) it is connected to: who can forward whose inputs (input-relay.ts). */
  peerLinks = new Map<PeerId, Set<PeerId>>();
  hashes: HashBook;
  /** This player's current input delay (adapted with `inputDelay: 'auto'`) and other players' as they announced them. */
  readonly delays: InputDelay<S, I>;
  localHashes = new Map<number, number>();
  states = new Map<number, Uint8Array>();
  stateWaiters = new Map<string, Array<(s: Uint8Array | undefined) => void>>();
  bad = new Map<PeerId, number>();

  timer: TimerHandle | undefined;
  helloTimer: TimerHandle | undefined;
  nextTickAt = 0;
  stalledAt = -1;
  stalls = 0;
  desyncs = 0;
  advantage = 0;
  inputBytes = 0;
  inputPackets = 0;
  ticks = 0;

  constructor(opts: LockstepSessionOptions<S, I>, clock: Clock, events: Emitter<LockstepEvents>) {
    this.opts = opts;
    this.room = opts.room;
    this.game = opts.game;
    this.clock = clock;
    this.events = events;
    this.role = opts.spectator ? 'spectator' : 'player';
    this.log = opts.log ?? ((m) => console.warn(`[lockstep ${this.selfId}] ${m}`));
    this.byteLength = opts.game.input.byteLength;
    this.neutral = opts.game.input.encode(opts.game.input.neutral);
    this.localInput = this.neutral;
    this.hashes = this.newHashBook();
    this.delays = new InputDelay(this);
    this.prefix = opts.channel ?? 'lockstep';
    this.ctl = this.room.channel(`${this.prefix}:ctl`, { reliability: 'reliable' });
  }

  /** A hash book for a game (a new one for each, so no judgement carries over between games). */
  newHashBook(): HashBook {
    // Another set of players at a hashed frame is another timeline of drops only with a
    // spectator involved (it may step past a drop frame before the drop reaches it; no player can).
    return new HashBook(() => this.selfId, (p) => this.role === 'spectator' || this.spectators.has(p));
  }

  /** Read from the room each time: a room learns its id from the relay after it is created. */
  get selfId(): PeerId {
    return this.room.selfId;
  }

  get frame(): number {
    return this.sim?.frame ?? 0;
  }

  /** Whether `peer` computes the state at `frame` (joiners only from their join frame). */
  isComputing(peer: PeerId, frame: number): boolean {
    return (this.since.get(peer) ?? Infinity) <= frame;
  }

  guard(from: PeerId, fn: () => void): void {
    if ((this.bad.get(from) ?? 0) >= MAX_BAD) return;
    try {
      fn();
    } catch (err) {
      this.badMessage(from, err instanceof MeshpartyError ? err.message : String((err as Error)?.stack ?? err));
      // A control message that does not decode counts with the peer's bad input on every
      // layer (Room.strike): see decodeWire for what does not.
      if (err instanceof MeshpartyError && err.detail?.wireFault === true) this.room.strike?.(from, `lockstep: ${err.message}`);
    }
  }

  badMessage(from: PeerId, reason: string): void {
    const n = (this.bad.get(from) ?? 0) + 1;
    this.bad.set(from, n);
    this.log(`dropped a message from ${from}: ${reason}${n >= MAX_BAD ? ' (ignoring this peer from now on)' : ''}`);
    if (n === MAX_BAD) this.departures.ignored(from);
  }

  /** Every other peer in the session (players, joiners, spectators), not yet dropped. */
  members(): PeerId[] {
    const out = new Set<PeerId>([...this.streams.keys(), ...this.spectators, ...this.receivers.keys()]);
    out.delete(this.selfId);
    for (const p of this.dropped) out.delete(p);
    return [...out];
  }

  isMember(peer: PeerId): boolean {
    return peer === this.selfId || this.streams.has(peer) || this.spectators.has(peer);
  }

  /**
   * Whether `peer` plays, as far as we know. A joiner before its snapshot knows every
   * member but not who plays (a join does not say; it holds an input stream for each):
   * only the coordinator that admitted it is known to play, so a spectator cannot pass
   * for a player to it (and have it announce a player gone to everyone). A drop or a
   * cut-off notice concerns the joiner alone and is still taken from any member holding a
   * stream (a drop decided by a newer coordinator may reach it before its snapshot).
   */
  isPlayer(peer: PeerId): boolean {
    return this.streams.has(peer) && (this.sim !== undefined || peer === this.joinedVia);
  }

  /** The lowest-id player that is not leaving (plain code-unit order, same on every peer). */
  coordinator(): PeerId | undefined {
    if (!this.sim) return this.joinedVia && !this.leaving.has(this.joinedVia) ? this.joinedVia : undefined;
    const candidates = [...(this.sim?.players ?? [])].filter((p) => !this.leaving.has(p) && !this.dropped.has(p));
    candidates.sort(byId);
    return candidates[0];
  }

  sendCtl(to: PeerId, m: Control): void {
    if (!this.room.peers.has(to)) return;
    this.ctl.send(to, encodeControl(m)).catch((err: unknown) => this.log(`control to ${to} failed: ${(err as Error).message}`));
  }
}

/**
 * Decode bytes whose grammar the lockstep wire version alone fixes (a control message),
 * marking a failure as the sender's fault (`detail.wireFault`): a strike of the room
 * (guard). Not a hello of another wire version (a peer to ignore, not to cut off from the
 * whole room), and nothing in the game's own encoding (input packets, whose inputs are
 * `game.input`'s bytes; a snapshot's state): a peer running another build of the game,
 * e.g. a tab still on the page before a deploy, sends those undecodable 60 times a second
 * while honest. The session still counts them and ignores such a peer after 100
 * (`member-ignored`); its chat, documents and media go on.
 */
export function decodeWire<T>(decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof MeshpartyError && err.code === 'bad-message' && err.detail?.wireVersion === undefined) {
      throw new MeshpartyError('bad-message', err.message, { ...err.detail, wireFault: true });
    }
    throw err;
  }
}
