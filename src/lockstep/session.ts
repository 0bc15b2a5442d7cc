/**
 * A lockstep session: binds a pure {@link Game} to a mesh {@link Room} and a clock.
 *
 * Every tick (60 Hz by default) a player samples its input for frame `frame + delay`
 * and sends every input the receiver has not acknowledged on the unreliable channel
 * (so a lost packet is repaired by the next one, without a retransmission timeout); a
 * frame is stepped only once every active player's input for it is in. Control
 * (start, join, leave, snapshots, hashes) goes on the reliable channel. Wire format and
 * agreement rules: PROTOCOL.md, "Lockstep wire format".
 */
import type { Channel, PeerId, Room } from '../mesh/types.js';
import { type Clock, type TimerHandle, realClock } from '../util/clock.js';
import type { LockstepEvents, LockstepSession, LockstepSessionOptions, LockstepStats } from './session-api.js';
import { Emitter } from '../util/emitter.js';
import { MeshpartyError } from '../util/errors.js';
import { DropAgreement } from './drop-agreement.js';
import type { Game } from './game.js';
import { HashBook, type HashVerdict } from './hash-book.js';
import { InputStream } from './input-stream.js';
import { Recorder, type Recording } from './replay.js';
import { Simulation } from './simulation.js';
import { type Control, Kind, type Role, type SessionConfig, decodeControl, decodeInputPacket, encodeControl, encodeInputPacket, generationOf, inputChannelName, resolveInputPacket } from './wire.js';

const KEEP_STATES = 32;
/** Decided drops and reports for admissions not (yet) known are kept this many at most. */
const KEEP_ADMISSION_RECORDS = 64;
/** Names one admission of a peer: a peer dropped and admitted again is another admission. */
const admissionKey = (peer: PeerId, since: number) => `${peer}\u0000${since}`;
/** Plain code-unit order: the same on every engine (never localeCompare). */
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const MAX_BAD = 100;

/**
 * Create a lockstep session over a room.
 *
 * @example
 * ```ts
 * const session = createLockstepSession({ room, game: lightCycles, inputDelay: 'auto' });
 * session.on('frame', () => draw(session.state!));
 * session.on('desync', (d) => console.error('desync at', d.frame, d.hashes));
 * keyboard.onChange((buttons) => session.setInput(buttons));
 * if (isHost) session.start();
 * ```
 */
export function createLockstepSession<S, I>(options: LockstepSessionOptions<S, I>): LockstepSession<S, I> {
  return new Session(options);
}

class Session<S, I> implements LockstepSession<S, I> {
  status: 'lobby' | 'joining' | 'running' | 'stopped' = 'lobby';
  role: Role;

  readonly #room: Room;
  readonly #game: Game<S, I>;
  readonly #clock: Clock;
  readonly #opts: LockstepSessionOptions<S, I>;
  readonly #events = new Emitter<LockstepEvents>();
  /** The input channel of the current generation (see inputChannelName), once it is known. */
  #in: Channel | undefined;
  #offInput: (() => void) | undefined;
  readonly #prefix: string;
  readonly #ctl;
  readonly #log: (m: string) => void;
  readonly #byteLength: number | undefined;
  readonly #neutral: Uint8Array;
  #offs: Array<() => void> = [];

  #config: SessionConfig = { seed: 0, tickHz: 60, delay: 2, hashEvery: 10 };
  #gen = 0;
  #sim: Simulation<S, I> | undefined;
  #recorder: Recorder | undefined;
  #localInput: Uint8Array;

  /** Input streams of players (including this peer's own), by player. */
  #streams = new Map<PeerId, InputStream>();
  /** Next frame this peer will sample an input for. */
  #myNext = 0;
  /** Peers this peer sends inputs to, with the next frame each still needs. */
  #receivers = new Map<PeerId, number>();
  /** Next input frame each player announced (first + count of its latest packet). */
  #remoteNext = new Map<PeerId, number>();
  #spectators = new Set<PeerId>();
  /** Frame from which each member computes the state (start or join frame). */
  #since = new Map<PeerId, number>();
  #joinsAt = new Map<number, PeerId[]>();
  #dropsAt = new Map<number, PeerId[]>();
  #leaving = new Set<PeerId>();
  #dropped = new Set<PeerId>();
  #reportSentTo = new Map<PeerId, PeerId>();
  /** Coordinator: reports by admission (key of leaver and its `since`). */
  #agreements = new Map<string, DropAgreement>();
  /** Every drop this peer applied, by admission: answers a late report, applies to a join heard late. */
  #decidedDrops = new Map<string, Extract<Control, { kind: typeof Kind.drop }>>();
  /** Leaves of admissions this peer has not heard of yet (their join may still be on its way). */
  #earlyLeaves = new Set<string>();
  /** Who proposed each member's admission, for members admitted while this peer played. */
  #proposer = new Map<PeerId, PeerId>();
  /** Joins of a peer still here under an earlier admission: applied once that one is stepped out. */
  #deferredJoins: Array<{ from: PeerId; m: Extract<Control, { kind: typeof Kind.join }> }> = [];
  /** Highest join frame of each peer this peer has applied: a hello older than it is stale. */
  #lastAdmission = new Map<PeerId, number>();
  /** Earliest join frame this peer accepts: past every frame of an admission it already left. */
  #notBefore = 0;
  /** Coordinator: joins proposed and not yet acknowledged by every member. */
  #pendingJoins = new Map<PeerId, { atFrame: number; acks: Set<PeerId>; expect: Set<PeerId>; role: Role }>();
  /** Coordinator: snapshots to send when the simulation reaches a frame. */
  #snapshotsAt = new Map<number, PeerId[]>();
  /** The coordinator that admitted us (our coordinator until the snapshot arrives). */
  #joinedVia: PeerId | undefined;
  #hellos = new Map<PeerId, { role: Role; started: boolean; connected: PeerId[]; after: number }>();
  #hashes: HashBook;
  #localHashes = new Map<number, number>();
  #states = new Map<number, Uint8Array>();
  #stateWaiters = new Map<string, Array<(s: Uint8Array | undefined) => void>>();
  #bad = new Map<PeerId, number>();

  #timer: TimerHandle | undefined;
  #helloTimer: TimerHandle | undefined;
  #nextTickAt = 0;
  #stalledAt = -1;
  #stalls = 0;
  #desyncs = 0;
  #advantage = 0;
  #inputBytes = 0;
  #inputPackets = 0;
  #ticks = 0;

  constructor(opts: LockstepSessionOptions<S, I>) {
    this.#opts = opts;
    this.#room = opts.room;
    this.#game = opts.game;
    this.#clock = opts.clock ?? realClock();
    this.role = opts.spectator ? 'spectator' : 'player';
    this.#log = opts.log ?? ((m) => console.warn(`[lockstep ${this.selfId}] ${m}`));
    this.#byteLength = opts.game.input.byteLength;
    this.#neutral = opts.game.input.encode(opts.game.input.neutral);
    this.#localInput = this.#neutral;
    this.#hashes = new HashBook(() => this.selfId);
    const prefix = (this.#prefix = opts.channel ?? 'lockstep');
    this.#ctl = this.#room.channel(`${prefix}:ctl`, { reliability: 'reliable' });
    this.#offs.push(
      () => this.#offInput?.(),
      this.#ctl.on('message', ({ from, data }) => this.#guard(from, () => this.#onControl(from, data))),
      this.#room.on('peer-joined', () => this.#sayHello()),
      this.#room.on('peer-left', ({ id }) => this.#guard(id, () => this.#onPeerLeft(id))),
      this.#room.on('status', (status) => status === 'closed' && this.#stop('room-closed')),
    );
    this.#sayHello();
  }

  // ---- public API -------------------------------------------------------------------

  /** Read from the room each time: a room learns its id from the relay after it is created. */
  get selfId(): PeerId {
    return this.#room.selfId;
  }

  get frame(): number {
    return this.#sim?.frame ?? 0;
  }
  get state(): S | undefined {
    return this.#sim?.state;
  }
  get players(): readonly PeerId[] {
    return this.#sim?.players ?? [];
  }
  get spectators(): readonly PeerId[] {
    return [...this.#spectators];
  }
  get inputDelay(): number {
    return this.#config.delay;
  }

  on<K extends keyof LockstepEvents>(event: K, listener: (value: LockstepEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  setInput(input: I): void {
    this.#localInput = this.#game.input.encode(input);
  }

  start(options: { seed?: number; players?: PeerId[]; spectators?: PeerId[] } = {}): void {
    if (this.status !== 'lobby') throw new MeshpartyError('already-started', `session is ${this.status}`);
    const connected = [...this.#room.peers.keys()];
    const hello = (p: PeerId) => this.#hellos.get(p);
    const players =
      options.players ?? [...(this.role === 'player' ? [this.selfId] : []), ...connected.filter((p) => hello(p)?.role === 'player' && !hello(p)!.started)];
    const spectators =
      options.spectators ?? [...(this.role === 'spectator' ? [this.selfId] : []), ...connected.filter((p) => hello(p)?.role === 'spectator' && !hello(p)!.started)];
    const max = this.#opts.maxPlayers ?? 8;
    const seated = players.slice(0, max);
    const watching = [...spectators, ...players.slice(max)].filter((p) => !seated.includes(p));
    // The starter always takes part: it watches when it did not seat itself.
    if (!seated.includes(this.selfId) && !watching.includes(this.selfId)) watching.push(this.selfId);
    if (seated.length === 0) throw new MeshpartyError('no-players', 'a session needs at least one player');
    const tickHz = this.#opts.tickHz ?? 60;
    const config: SessionConfig = {
      seed: (options.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0,
      tickHz,
      delay: this.#chooseDelay(tickHz, [...seated, ...watching]),
      hashEvery: this.#opts.hashEvery ?? 10,
    };
    const gen = generationOf(config.seed);
    const msg: Control = { kind: Kind.start, gen, startFrame: 0, players: seated, spectators: watching, ...config };
    for (const p of [...seated, ...watching]) if (p !== this.selfId) this.#sendCtl(p, msg);
    this.#begin(msg);
  }

  stats(): LockstepStats {
    const rttMs: Record<PeerId, number | undefined> = {};
    for (const [id, p] of this.#room.peers) rttMs[id] = p.rttMs;
    return {
      frame: this.frame,
      tickHz: this.#config.tickHz,
      inputDelay: this.#config.delay,
      players: [...this.players],
      spectators: this.spectators as PeerId[],
      stalls: this.#stalls,
      desyncs: this.#desyncs,
      frameAdvantage: this.#advantage,
      rttMs,
      inputBytesSent: this.#inputBytes,
      inputPacketsSent: this.#inputPackets,
    };
  }

  recording(): Recording {
    if (!this.#recorder) throw new MeshpartyError('not-started', 'nothing recorded before start');
    return this.#recorder.recording();
  }

  hashAt(frame: number): number | undefined {
    return this.#localHashes.get(frame);
  }

  stateAt(frame: number): Uint8Array | undefined {
    return this.#states.get(frame);
  }

  requestState(peer: PeerId, frame: number, timeoutMs = 5000): Promise<Uint8Array | undefined> {
    if (peer === this.selfId) return Promise.resolve(this.stateAt(frame));
    return new Promise((resolve) => {
      const key = `${peer}\u0000${frame}`;
      let done = false;
      const finish = (s: Uint8Array | undefined) => {
        if (done) return;
        done = true;
        this.#clock.clearTimeout(timer);
        resolve(s);
      };
      const timer = this.#clock.setTimeout(() => finish(undefined), timeoutMs);
      const list = this.#stateWaiters.get(key) ?? [];
      list.push(finish);
      this.#stateWaiters.set(key, list);
      this.#sendCtl(peer, { kind: Kind.stateReq, gen: this.#gen, frame });
    });
  }

  leave(): void {
    if (this.status === 'stopped') return;
    if (this.status === 'running' || this.status === 'joining') {
      const since = this.#since.get(this.selfId) ?? 0;
      for (const p of this.#members()) this.#sendCtl(p, { kind: Kind.leave, gen: this.#gen, peer: this.selfId, since });
    }
    this.#stop('left');
  }

  // ---- starting and joining ---------------------------------------------------------

  #chooseDelay(tickHz: number, members: PeerId[]): number {
    const d = this.#opts.inputDelay ?? 2;
    if (d !== 'auto') return Math.max(0, Math.min(60, Math.round(d)));
    const rtts = members.map((p) => this.#room.peers.get(p)?.rttMs).filter((r): r is number => typeof r === 'number');
    const maxRtt = rtts.length ? Math.max(...rtts) : 0;
    return Math.max(2, Math.min(15, Math.ceil(maxRtt / 2 / (1000 / tickHz)) + 2));
  }

  /** Listen on the input channel of generation `gen` (and no longer on any other). */
  #useGeneration(gen: number): void {
    this.#gen = gen;
    this.#offInput?.();
    const ch = (this.#in = this.#room.channel(inputChannelName(this.#prefix, gen), { reliability: 'unreliable' }));
    this.#offInput = ch.on('message', ({ from, data }) => this.#guard(from, () => this.#onInput(from, data)));
  }

  #begin(m: Extract<Control, { kind: typeof Kind.start }>): void {
    this.#config = { seed: m.seed, tickHz: m.tickHz, delay: m.delay, hashEvery: m.hashEvery };
    this.#useGeneration(m.gen);
    this.role = m.players.includes(this.selfId) ? 'player' : 'spectator';
    for (const p of m.players) this.#streams.set(p, new InputStream(m.startFrame, m.delay, this.#neutral));
    for (const p of m.spectators) this.#spectators.add(p);
    for (const p of [...m.players, ...m.spectators]) {
      this.#since.set(p, m.startFrame);
      if (p !== this.selfId) this.#receivers.set(p, m.startFrame + m.delay);
    }
    this.#myNext = m.startFrame + m.delay;
    this.#recorder = new Recorder({ game: this.#game.name, seed: m.seed, startFrame: m.startFrame, players: m.players });
    const rec = this.#recorder;
    this.#sim = Simulation.start(this.#game, m.seed, m.players, m.startFrame, (f) => rec.step(f));
    this.#running();
  }

  #running(): void {
    this.status = 'running';
    const sim = this.#sim!;
    if (sim.frame % this.#config.hashEvery === 0) this.#hashFrame();
    this.#events.emit('started', {
      frame: sim.frame,
      players: [...sim.players],
      spectators: [...this.#spectators],
      seed: this.#config.seed,
      inputDelay: this.#config.delay,
      tickHz: this.#config.tickHz,
    });
    this.#schedule(true);
  }

  #sayHello(): void {
    if (this.status === 'stopped') return;
    // In the lobby, repeat every second: a hello sent the instant a connection opens can
    // reach the other side before its end of the connection is open, and be lost.
    if (this.status === 'lobby' && this.#helloTimer === undefined) {
      this.#helloTimer = this.#clock.setTimeout(() => {
        this.#helloTimer = undefined;
        if (this.status === 'lobby') this.#sayHello();
      }, 1000);
    }
    const msg: Control = { kind: Kind.hello, role: this.role, started: this.status !== 'lobby', connected: [...this.#room.peers.keys()], after: this.#notBefore };
    for (const p of this.#room.peers.keys()) this.#sendCtl(p, msg);
  }

  /** Coordinator: propose a join frame for a peer who arrived mid-game. */
  #maybeAdmit(peer: PeerId): void {
    const sim = this.#sim;
    if (this.status !== 'running' || !sim || this.#coordinator() !== this.selfId) return;
    if ((this.#opts.admitLateJoiners ?? true) === false) return;
    // Its hello can arrive before our end of the connection is open; a join sent now would be lost.
    if (!this.#room.peers.has(peer)) return;
    const hello = this.#hellos.get(peer);
    if (!hello || hello.started || this.#isMember(peer) || this.#pendingJoins.has(peer) || this.#dropped.has(peer)) return;
    // A hello older than the peer's last admission we know of says nothing about now.
    if (hello.after <= (this.#lastAdmission.get(peer) ?? -1)) return;
    // While a drop is being agreed, a join sent now could reach a member before the drop
    // it must follow (the drop may cancel an earlier admission of this very peer).
    if (this.#leaving.size > 0) return;
    const others = this.#members();
    if (!others.every((m) => m === peer || hello.connected.includes(m))) return; // not meshed with everyone yet
    const seats = sim.players.length + [...this.#pendingJoins.values()].filter((j) => j.role === 'player').length;
    const role: Role = hello.role === 'player' && seats < (this.#opts.maxPlayers ?? 8) ? 'player' : 'spectator';
    const frameMs = 1000 / this.#config.tickHz;
    const maxRtt = Math.max(0, ...others.map((p) => this.#room.peers.get(p)?.rttMs ?? 100));
    // Far enough ahead that every member hears of it before anyone could step it.
    // Never below `after`: frames of an earlier admission of this peer may still be in flight.
    const atFrame = Math.max(Math.max(this.#myNext, sim.frame + this.#config.delay + 1) + Math.ceil(maxRtt / frameMs) + 4, hello.after);
    const members = [this.selfId, ...others].map((p) => [this.#since.get(p) ?? 0, p] as [number, PeerId]);
    const msg: Control = { kind: Kind.join, gen: this.#gen, peer, role, atFrame, ...this.#config, members };
    for (const p of [...others, peer]) this.#sendCtl(p, msg);
    this.#pendingJoins.set(peer, { atFrame, role, acks: new Set(), expect: new Set(others) });
    this.#applyJoin(peer, role, atFrame, this.selfId);
    const at = this.#snapshotsAt.get(atFrame) ?? [];
    at.push(peer);
    this.#snapshotsAt.set(atFrame, at);
  }

  /** Every member: from `atFrame` on, `peer` plays (or watches); `proposer` is the coordinator that admitted it. */
  #applyJoin(peer: PeerId, role: Role, atFrame: number, proposer: PeerId): void {
    this.#proposer.set(peer, proposer);
    this.#lastAdmission.set(peer, Math.max(atFrame, this.#lastAdmission.get(peer) ?? 0));
    if (role === 'player') {
      const list = this.#joinsAt.get(atFrame) ?? [];
      if (!list.includes(peer)) list.push(peer);
      this.#joinsAt.set(atFrame, list);
      this.#streams.set(peer, new InputStream(atFrame, this.#config.delay, this.#neutral));
    } else {
      this.#spectators.add(peer);
    }
    this.#receivers.set(peer, atFrame);
    this.#since.set(peer, atFrame);
    if (role === 'spectator') this.#events.emit('player-joined', { peer, atFrame, role });
  }

  /** The late joiner itself: learn the session, wait for the snapshot. */
  #onJoinSelf(from: PeerId, m: Extract<Control, { kind: typeof Kind.join }>): void {
    if (this.status === 'stopped') return;
    if (this.#joinedVia === from && this.#since.get(this.selfId) === m.atFrame) return; // the same admission again
    if (this.status !== 'lobby' || m.atFrame < this.#notBefore) {
      // An admission proposed from a stale hello (we are in another admission, or its frame
      // could meet packets of one we left): refuse it like a player leaving, so every member
      // drops it at an agreed frame instead of waiting for our inputs.
      this.#log(`refusing admission at ${m.atFrame} from ${from} (${this.status}, not before ${this.#notBefore})`);
      const leave: Control = { kind: Kind.leave, gen: m.gen, peer: this.selfId, since: m.atFrame };
      for (const [, p] of m.members) if (p !== this.selfId) this.#sendCtl(p, leave);
      return;
    }
    this.status = 'joining';
    this.#joinedVia = from;
    this.#useGeneration(m.gen);
    this.#config = { seed: m.seed, tickHz: m.tickHz, delay: m.delay, hashEvery: m.hashEvery };
    this.role = m.role;
    this.#since.set(this.selfId, m.atFrame);
    for (const [since, p] of m.members) {
      this.#since.set(p, since);
      if (p === this.selfId) continue;
      this.#receivers.set(p, m.atFrame + m.delay);
      this.#streams.set(p, new InputStream(m.atFrame));
    }
    if (m.role === 'player') this.#streams.set(this.selfId, new InputStream(m.atFrame, m.delay, this.#neutral));
    this.#myNext = m.atFrame + m.delay;
    this.#schedule(true); // send acks while waiting, so senders know what reached us
  }

  #onSnapshot(m: Extract<Control, { kind: typeof Kind.snapshot }>): void {
    if (this.status !== 'joining' || m.gen !== this.#gen || m.frame !== this.#since.get(this.selfId)) return;
    this.#config = { seed: m.seed, tickHz: m.tickHz, delay: m.delay, hashEvery: m.hashEvery };
    for (const s of m.spectators) this.#spectators.add(s);
    // The coordinator's lists are authoritative (they include any join we heard of first).
    this.#joinsAt.clear();
    this.#dropsAt.clear();
    for (const [f, p] of m.joins) {
      this.#since.set(p, f);
      const list = this.#joinsAt.get(f) ?? [];
      if (!list.includes(p)) list.push(p);
      this.#joinsAt.set(f, list);
      if (p !== this.selfId) this.#streams.set(p, new InputStream(f, m.delay, this.#neutral));
    }
    for (const [f, p] of m.drops) {
      const list = this.#dropsAt.get(f) ?? [];
      if (!list.includes(p)) list.push(p);
      this.#dropsAt.set(f, list);
    }
    for (const p of [...this.#streams.keys()]) {
      if (!m.players.includes(p) && !m.joins.some(([, j]) => j === p)) this.#streams.delete(p);
    }
    const state = this.#game.deserialize(m.state);
    this.#recorder = new Recorder({ game: this.#game.name, seed: m.seed, startFrame: m.frame, players: m.players, snapshot: m.state });
    const rec = this.#recorder;
    this.#sim = new Simulation(this.#game, state, m.frame, m.players, (f) => rec.step(f));
    this.#running();
  }

  // ---- leaving ----------------------------------------------------------------------

  /** Every member: a join proposed by the coordinator `from`. */
  #onJoin(from: PeerId, m: Extract<Control, { kind: typeof Kind.join }>): void {
    const current = this.#since.get(m.peer);
    if (current === m.atFrame && this.#isMember(m.peer)) {
      this.#sendCtl(from, { kind: Kind.joinAck, gen: this.#gen, peer: m.peer, atFrame: m.atFrame });
      return;
    }
    // A join from a proposer already leaving or dropped is refused: unacknowledged, the
    // proposer never sends an input for the join frame, so no member can step it, and the
    // proposer's drop cancels it everywhere (see #applyDrop).
    if (!this.#streams.has(from) || this.#leaving.has(from) || this.#dropped.has(from)) {
      this.#log(`ignoring join of ${m.peer} at ${m.atFrame}: its proposer ${from} is leaving`);
      return;
    }
    // Still here under an earlier admission (its drop not stepped yet): apply it after.
    if (this.#isMember(m.peer) || this.#dropped.has(m.peer)) {
      this.#deferredJoins.push({ from, m });
      return;
    }
    if (this.#sim && m.atFrame <= this.#sim.frame) this.#log(`join of ${m.peer} at ${m.atFrame} arrived at frame ${this.#sim.frame}`);
    this.#applyJoin(m.peer, m.role, m.atFrame, from);
    this.#hellos.delete(m.peer); // only a hello sent after this admission may start another
    this.#sendCtl(from, { kind: Kind.joinAck, gen: this.#gen, peer: m.peer, atFrame: m.atFrame });
    const key = admissionKey(m.peer, m.atFrame);
    const decided = this.#decidedDrops.get(key);
    if (decided) {
      this.#decidedDrops.delete(key);
      this.#applyDrop(decided);
    } else if (this.#earlyLeaves.delete(key) || !this.#room.peers.has(m.peer)) {
      // It left before we heard of it: announce it like any departure.
      this.#departed(m.peer);
    }
  }

  /** Joins deferred behind an earlier admission of the same peer, once that one is gone. */
  #flushDeferredJoins(): void {
    if (this.#deferredJoins.length === 0) return;
    const list = this.#deferredJoins;
    this.#deferredJoins = [];
    for (const { from, m } of list) this.#onJoin(from, m);
  }

  /**
   * A join whose proposer is dropped at or before its frame never happened: the proposer
   * sends no input for the join frame until every member acknowledged the join, so a
   * drop frame at or before it means some member may never have heard of it, and no member
   * stepped it. Every member applies the same drop, so every member cancels the same joins.
   */
  #cancelJoin(peer: PeerId): void {
    const since = this.#since.get(peer);
    this.#log(`cancelling the join of ${peer} at ${since}: its proposer was dropped first`);
    const wasSpectator = this.#spectators.delete(peer);
    this.#streams.delete(peer);
    this.#receivers.delete(peer);
    this.#remoteNext.delete(peer);
    this.#since.delete(peer);
    this.#proposer.delete(peer);
    this.#leaving.delete(peer);
    this.#reportSentTo.delete(peer);
    this.#pendingJoins.delete(peer);
    if (since !== undefined) this.#agreements.delete(admissionKey(peer, since));
    for (const lists of [this.#joinsAt, this.#snapshotsAt]) {
      for (const [f, ps] of lists) {
        const rest = ps.filter((p) => p !== peer);
        if (rest.length) lists.set(f, rest);
        else lists.delete(f);
      }
    }
    this.#judge(this.#hashes.forget(peer));
    if (wasSpectator) this.#events.emit('player-left', { peer, atFrame: since ?? this.frame });
  }

  /** Another peer's connection closed. */
  #onPeerLeft(id: PeerId): void {
    this.#hellos.delete(id);
    if (this.status === 'joining' && id === this.#joinedVia) return this.#rejoin(true, `${id}, who admitted us, left before our snapshot`);
    if (this.status !== 'running' && this.status !== 'joining') return;
    this.#departed(id);
    this.#tryDecideDrops();
  }

  /** A member is gone: a spectator simply stops being sent to; a player is dropped at an agreed frame. */
  #departed(id: PeerId): void {
    if (this.#spectators.has(id)) {
      this.#spectators.delete(id);
      this.#receivers.delete(id);
      this.#judge(this.#hashes.forget(id));
      this.#events.emit('player-left', { peer: id, atFrame: this.frame });
    } else {
      this.#playerGone(id);
    }
    this.#pendingJoinsForget(id);
  }

  #pendingJoinsForget(id: PeerId): void {
    for (const j of this.#pendingJoins.values()) j.expect.delete(id);
  }

  /**
   * Back to the lobby to be admitted again: the coordinator that admitted us vanished
   * before sending our snapshot (`announce`: tell the members, who drop us at an agreed
   * frame as for any player), or our join was cancelled (the members cancel it themselves).
   */
  #rejoin(announce: boolean, why: string): void {
    this.#log(`back to the lobby: ${why}`);
    const since = this.#since.get(this.selfId) ?? 0;
    if (announce) for (const p of this.#members()) this.#sendCtl(p, { kind: Kind.leave, gen: this.#gen, peer: this.selfId, since });
    // Packets of this admission may still be in flight: the next one must start past every
    // frame they name (our inputs, and what we acknowledged of others').
    let last = Math.max(this.#myNext, since + this.#config.delay, this.#sim?.frame ?? 0);
    for (const s of this.#streams.values()) last = Math.max(last, s.next);
    this.#notBefore = Math.max(this.#notBefore, last + 1);
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const c of [this.#streams, this.#receivers, this.#remoteNext, this.#since, this.#joinsAt, this.#dropsAt, this.#reportSentTo, this.#agreements, this.#pendingJoins, this.#snapshotsAt, this.#localHashes, this.#states, this.#decidedDrops, this.#proposer]) c.clear();
    for (const c of [this.#spectators, this.#leaving, this.#dropped, this.#earlyLeaves]) c.clear();
    this.#deferredJoins = [];
    this.#hashes = new HashBook(() => this.selfId);
    this.#sim = undefined;
    this.#recorder = undefined;
    this.#joinedVia = undefined;
    this.#gen = 0;
    this.#offInput?.();
    this.#offInput = undefined;
    this.#in = undefined;
    this.role = this.#opts.spectator ? 'spectator' : 'player';
    this.status = 'lobby';
    this.#sayHello();
  }

  /** A player left or vanished (seen by us or announced by another member). */
  #playerGone(id: PeerId): void {
    if (!this.#streams.has(id) || this.#leaving.has(id) || this.#dropped.has(id)) return;
    if (id === this.selfId) return this.#stop('dropped');
    this.#leaving.add(id);
    this.#streams.get(id)!.frozen = true;
    this.#receivers.delete(id);
    const since = this.#since.get(id) ?? 0;
    for (const p of this.#members()) this.#sendCtl(p, { kind: Kind.leave, gen: this.#gen, peer: id, since });
    this.#judge(this.#hashes.forget(id));
    this.#pendingJoinsForget(id);
    this.#sendReports();
  }

  /** A member announced that `peer` (admitted at `since`) left. */
  #onLeave(m: Extract<Control, { kind: typeof Kind.leave }>): void {
    if (m.peer === this.selfId) return; // someone lost us; the coordinator's drop decides
    const current = this.#since.get(m.peer);
    if (current === undefined || !this.#isMember(m.peer)) {
      // Its join may still be on its way to us; remember the leave for it (bounded).
      this.#earlyLeaves.add(admissionKey(m.peer, m.since));
      for (const k of this.#earlyLeaves) if (this.#earlyLeaves.size > KEEP_ADMISSION_RECORDS) this.#earlyLeaves.delete(k);
      return;
    }
    if (current !== m.since) return; // about an earlier admission of the same peer
    this.#departed(m.peer);
    this.#tryDecideDrops();
  }

  /** Send our report on every pending leaver to the current coordinator. */
  #sendReports(): void {
    const coord = this.#coordinator();
    if (!coord) return;
    for (const leaver of this.#leaving) {
      if (this.#reportSentTo.get(leaver) === coord) continue;
      this.#reportSentTo.set(leaver, coord);
      const s = this.#streams.get(leaver)!;
      const base = Math.max(s.start, s.next - 256);
      const inputs = s.range(base, s.next);
      const report: Control = { kind: Kind.report, gen: this.#gen, leaver, since: this.#since.get(leaver) ?? 0, next: s.next, base, inputs };
      if (coord === this.selfId) this.#onReport(this.selfId, report);
      else this.#sendCtl(coord, report);
    }
  }

  #onReport(from: PeerId, m: Extract<Control, { kind: typeof Kind.report }>): void {
    const key = admissionKey(m.leaver, m.since);
    const decided = this.#decidedDrops.get(key);
    if (decided) {
      // Decided already (perhaps by a coordinator that vanished before telling `from`).
      if (from !== this.selfId) this.#sendCtl(from, decided);
      return;
    }
    let a = this.#agreements.get(key);
    if (!a) this.#agreements.set(key, (a = new DropAgreement(m.leaver)));
    a.add(from, { next: m.next, base: m.base, inputs: m.inputs });
    for (const k of this.#agreements.keys()) if (this.#agreements.size > KEEP_ADMISSION_RECORDS && k !== key) this.#agreements.delete(k);
    // A report on an admission we do not know (yet) is kept: the join may still be coming.
    if (this.#since.get(m.leaver) !== m.since || !this.#isMember(m.leaver)) return;
    // We may not have noticed the departure ourselves yet.
    this.#playerGone(m.leaver);
    this.#tryDecideDrops();
  }

  #tryDecideDrops(): void {
    if (this.#coordinator() !== this.selfId) return;
    const frame = this.#sim?.frame ?? 0;
    // Peers still waiting for their join frame have nothing to report.
    const expected = [this.selfId, ...this.#members()].filter((p) => !this.#leaving.has(p) && (p === this.selfId || this.#isComputing(p, frame)));
    for (const leaver of [...this.#leaving]) {
      const since = this.#since.get(leaver) ?? 0;
      const key = admissionKey(leaver, since);
      const a = this.#agreements.get(key);
      const d = a?.decide(expected);
      if (!a || !d) continue;
      this.#agreements.delete(key);
      const msg: Extract<Control, { kind: typeof Kind.drop }> = { kind: Kind.drop, gen: this.#gen, leaver, since, ...d };
      // Reporters we do not count as members (a joiner whose join we never heard of) learn it too.
      for (const p of new Set([...this.#members(), ...a.reports.keys()])) if (p !== this.selfId) this.#sendCtl(p, msg);
      this.#applyDrop(msg);
    }
  }

  #applyDrop(m: Extract<Control, { kind: typeof Kind.drop }>): void {
    const key = admissionKey(m.leaver, m.since);
    if (this.#since.get(m.leaver) !== m.since) {
      // Not an admission we know (yet): keep it for a join that arrives late.
      if (m.leaver !== this.selfId) this.#remember(key, m);
      return;
    }
    if (this.#dropped.has(m.leaver)) return;
    if (m.leaver === this.selfId) return this.#stop('dropped');
    const s = this.#streams.get(m.leaver);
    if (!s) return;
    this.#remember(key, m);
    if (this.#sim && m.atFrame < this.#sim.frame) this.#log(`drop of ${m.leaver} at ${m.atFrame} is behind frame ${this.#sim.frame}`);
    m.inputs.forEach((b, i) => s.put(m.base + i, b, true));
    const list = this.#dropsAt.get(m.atFrame) ?? [];
    if (!list.includes(m.leaver)) list.push(m.leaver);
    this.#dropsAt.set(m.atFrame, list);
    this.#dropped.add(m.leaver);
    this.#leaving.delete(m.leaver);
    this.#receivers.delete(m.leaver);
    this.#agreements.delete(key);
    // Joins the leaver proposed for its drop frame or later are cancelled, here as everywhere.
    for (const [peer, proposer] of [...this.#proposer]) {
      if (proposer === m.leaver && (this.#since.get(peer) ?? -1) >= m.atFrame && peer !== this.selfId) this.#cancelJoin(peer);
    }
    if (this.#joinedVia === m.leaver && (this.#since.get(this.selfId) ?? -1) >= m.atFrame) return this.#rejoin(false, `our join at ${this.#since.get(this.selfId)} was cancelled (${m.leaver} dropped at ${m.atFrame})`);
    this.#flushDeferredJoins();
  }

  #remember(key: string, m: Extract<Control, { kind: typeof Kind.drop }>): void {
    this.#decidedDrops.set(key, m);
    for (const k of this.#decidedDrops.keys()) if (this.#decidedDrops.size > KEEP_ADMISSION_RECORDS) this.#decidedDrops.delete(k);
  }

  // ---- the tick ---------------------------------------------------------------------

  #schedule(reset = false): void {
    if (this.status === 'stopped') return;
    const frameMs = 1000 / this.#config.tickHz;
    const now = this.#clock.now();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    // A peer ahead of the slowest player stretches its tick a little (time sync).
    const stretch = this.#advantage > 1 ? Math.min(0.5, 0.1 * (this.#advantage - 1)) : 0;
    this.#nextTickAt = reset ? now + frameMs : this.#nextTickAt + frameMs * (1 + stretch);
    if (now - this.#nextTickAt > 5 * frameMs) this.#nextTickAt = now; // was suspended: do not burst
    this.#timer = this.#clock.setTimeout(() => this.#tick(), Math.max(0, this.#nextTickAt - now));
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.status === 'stopped') return;
    try {
      if (this.status === 'running') {
        this.#advantage = this.#estimateAdvantage();
        const steps = this.#advantage < -2 ? 2 : 1;
        for (let k = 0; k < steps; k++) {
          this.#produceInputs();
          if (!this.#tryStep()) break;
        }
        this.#produceInputs();
        if (++this.#ticks % 30 === 0) for (const p of this.#hellos.keys()) this.#maybeAdmit(p);
      }
      this.#sendInputs();
    } catch (err) {
      this.#log(`tick failed: ${(err as Error).stack ?? err}`);
    }
    this.#schedule();
  }

  #gateFrame(): number {
    let gate = Infinity;
    for (const [peer, j] of this.#pendingJoins) {
      for (const p of [...j.expect]) if (!this.#room.peers.has(p) || this.#leaving.has(p)) j.expect.delete(p);
      if ([...j.expect].every((p) => j.acks.has(p))) {
        if (j.role === 'spectator') this.#pendingJoins.delete(peer);
        continue;
      }
      gate = Math.min(gate, j.atFrame);
    }
    return gate;
  }

  #produceInputs(): void {
    const mine = this.#streams.get(this.selfId);
    if (!mine || this.role !== 'player' || !this.#sim) return;
    if (this.#opts.input) this.setInput(this.#opts.input());
    const limit = Math.min(this.#sim.frame + this.#config.delay, this.#gateFrame() - 1);
    while (this.#myNext <= limit) mine.put(this.#myNext++, this.#localInput);
  }

  #tryStep(): boolean {
    const sim = this.#sim!;
    const f = sim.frame;
    // Sorted, so peers that learned of two joins (or drops) in different orders agree.
    const joined = [...(this.#joinsAt.get(f) ?? [])].sort(byId);
    const left = [...(this.#dropsAt.get(f) ?? [])].sort(byId);
    const need = sim.playersAfter(joined, left);
    const missing = need.filter((p) => !this.#streams.get(p)?.has(f));
    if (missing.length) {
      if (this.#stalledAt !== f) {
        this.#stalledAt = f;
        this.#stalls++;
        this.#events.emit('stall', { frame: f, waitingOn: missing });
      }
      return false;
    }
    sim.advance(new Map(need.map((p) => [p, this.#streams.get(p)!.get(f)!])), joined, left);
    this.#joinsAt.delete(f);
    this.#dropsAt.delete(f);
    for (const p of joined) {
      this.#pendingJoins.delete(p);
      this.#events.emit('player-joined', { peer: p, atFrame: f, role: 'player' });
    }
    for (const p of left) {
      this.#streams.delete(p);
      this.#dropped.delete(p);
      this.#since.delete(p);
      this.#proposer.delete(p);
      this.#remoteNext.delete(p);
      this.#judge(this.#hashes.forget(p));
      this.#events.emit('player-left', { peer: p, atFrame: f });
    }
    if (left.length) this.#flushDeferredJoins();
    if (sim.frame % this.#config.hashEvery === 0) this.#hashFrame();
    if ((sim.frame & 255) === 0) {
      for (const s of this.#streams.values()) s.prune(sim.frame - 512);
      this.#hashes.prune(sim.frame - 1200);
    }
    const snap = this.#snapshotsAt.get(sim.frame);
    if (snap) {
      this.#snapshotsAt.delete(sim.frame);
      for (const p of snap) this.#sendSnapshot(p);
    }
    this.#events.emit('frame', { frame: sim.frame });
    return true;
  }

  #sendSnapshot(to: PeerId): void {
    const sim = this.#sim!;
    const pairs = (m: Map<number, PeerId[]>) => [...m].flatMap(([f, ps]) => ps.map((p) => [f, p] as [number, PeerId]));
    this.#sendCtl(to, {
      kind: Kind.snapshot,
      gen: this.#gen,
      frame: sim.frame,
      ...this.#config,
      players: [...sim.players],
      spectators: [...this.#spectators],
      joins: pairs(this.#joinsAt),
      drops: pairs(this.#dropsAt),
      state: sim.serialize(),
    });
  }

  #estimateAdvantage(): number {
    const sim = this.#sim!;
    const frameMs = 1000 / this.#config.tickHz;
    let slowest = Infinity;
    for (const p of sim.players) {
      if (p === this.selfId || this.#leaving.has(p)) continue;
      const next = this.#remoteNext.get(p);
      if (next === undefined) continue;
      const oneWay = (this.#room.peers.get(p)?.rttMs ?? 0) / 2 / frameMs;
      // After a tick a player has sampled up to frame + delay, so next = frame + delay + 1;
      // its packet is one-way latency old, so it is that much further on by now.
      slowest = Math.min(slowest, next - this.#config.delay - 1 + oneWay);
    }
    return slowest === Infinity ? 0 : sim.frame - slowest;
  }

  #sendInputs(): void {
    const mine = this.#streams.get(this.selfId);
    for (const [to, acked] of this.#receivers) {
      if (!this.#room.peers.has(to)) continue;
      let first = this.#myNext;
      let inputs: Uint8Array[] = [];
      if (mine && this.role === 'player') {
        first = Math.max(acked, mine.start, this.#myNext - 255);
        inputs = mine.range(first, this.#myNext);
      }
      // A receiver without inputs (a spectator) is acknowledged nothing: ack = end costs no byte.
      const ack = this.#streams.get(to)?.next ?? first + inputs.length;
      const bytes = encodeInputPacket({ ack, first, inputs }, this.#byteLength);
      this.#inputBytes += bytes.length;
      this.#inputPackets++;
      this.#in?.send(to, bytes).catch(() => {});
    }
  }

  // ---- hashes -----------------------------------------------------------------------

  #hashFrame(): void {
    const sim = this.#sim!;
    const frame = sim.frame;
    const state = sim.serialize();
    const hash = this.#game.hash(sim.state) >>> 0;
    this.#localHashes.set(frame, hash);
    this.#states.set(frame, state);
    for (const f of this.#states.keys()) if (this.#states.size > KEEP_STATES) this.#states.delete(f);
    for (const f of this.#localHashes.keys()) if (this.#localHashes.size > 1024) this.#localHashes.delete(f);
    this.#recorder?.hash(frame, hash);
    const members = this.#members().filter((p) => !this.#leaving.has(p) && this.#isComputing(p, frame));
    for (const p of members) this.#sendCtl(p, { kind: Kind.hash, gen: this.#gen, frame, hash });
    this.#judge([this.#hashes.local(frame, hash, members)]);
  }

  /** Whether `peer` computes the state at `frame` (joiners only from their join frame). */
  #isComputing(peer: PeerId, frame: number): boolean {
    return (this.#since.get(peer) ?? Infinity) <= frame;
  }

  #judge(verdicts: Array<HashVerdict | undefined>): void {
    for (const v of verdicts) {
      if (!v || v.equal) continue;
      this.#desyncs++;
      const peers = Object.keys(v.hashes);
      this.#events.emit('desync', {
        frame: v.frame,
        hashes: v.hashes,
        dump: async () => Object.fromEntries(await Promise.all(peers.map(async (p) => [p, await this.requestState(p, v.frame)] as const))),
      });
    }
  }

  // ---- receiving --------------------------------------------------------------------

  #guard(from: PeerId, fn: () => void): void {
    if ((this.#bad.get(from) ?? 0) >= MAX_BAD) return;
    try {
      fn();
    } catch (err) {
      this.#badMessage(from, err instanceof MeshpartyError ? err.message : String((err as Error)?.stack ?? err));
    }
  }

  #badMessage(from: PeerId, reason: string): void {
    const n = (this.#bad.get(from) ?? 0) + 1;
    this.#bad.set(from, n);
    this.#log(`dropped a message from ${from}: ${reason}${n >= MAX_BAD ? ' (ignoring this peer from now on)' : ''}`);
  }

  #onInput(from: PeerId, data: Uint8Array): void {
    if (this.status !== 'running' && this.status !== 'joining') return;
    const raw = decodeInputPacket(data, this.#byteLength);
    const s = this.#streams.get(from);
    // The sender's next frame as we expect it: the first of its inputs we lack, or for a
    // peer without inputs (a spectator) its fixed next frame, join frame + delay.
    const since = this.#since.get(from);
    const ref = s ? s.next : since !== undefined ? since + this.#config.delay : undefined;
    if (ref === undefined) return; // not a member (yet)
    const p = resolveInputPacket(raw, ref);
    if (!p) throw new MeshpartyError('bad-message', 'input frames before 0');
    const acked = this.#receivers.get(from);
    if (acked !== undefined && p.ack > acked) this.#receivers.set(from, Math.min(p.ack, this.#myNext));
    if (!s || from === this.selfId) return;
    if (p.inputs.length === 0) return;
    for (const b of p.inputs) this.#game.input.decode(b); // validate before storing any
    p.inputs.forEach((b, i) => s.put(p.first + i, b));
    const next = p.first + p.inputs.length;
    if (next > (this.#remoteNext.get(from) ?? -1)) this.#remoteNext.set(from, next);
  }

  #onControl(from: PeerId, data: Uint8Array): void {
    const m = decodeControl(data);
    if (m.kind === Kind.hello) {
      this.#hellos.set(from, { role: m.role, started: m.started, connected: m.connected, after: m.after });
      this.#maybeAdmit(from);
      return;
    }
    if (m.kind === Kind.start) {
      if (this.status === 'lobby' && (m.players.includes(this.selfId) || m.spectators.includes(this.selfId))) this.#begin(m);
      return;
    }
    if (m.kind === Kind.join && m.peer === this.selfId) return this.#onJoinSelf(from, m);
    if (m.kind === Kind.snapshot) return this.#onSnapshot(m);
    if (m.gen !== this.#gen || this.status === 'lobby' || this.status === 'stopped') return;
    switch (m.kind) {
      case Kind.join:
        return this.#onJoin(from, m);
      case Kind.joinAck:
        this.#pendingJoins.get(m.peer)?.acks.add(from);
        return;
      case Kind.hash:
        return this.#judge([this.#hashes.remote(from, m.frame, m.hash)]);
      case Kind.leave:
        return this.#onLeave(m);
      case Kind.report:
        return this.#onReport(from, m);
      case Kind.drop:
        return this.#applyDrop(m);
      case Kind.stateReq:
        return this.#sendCtl(from, { kind: Kind.stateRes, gen: this.#gen, frame: m.frame, state: this.stateAt(m.frame) });
      case Kind.stateRes: {
        const key = `${from}\u0000${m.frame}`;
        const waiters = this.#stateWaiters.get(key);
        this.#stateWaiters.delete(key);
        for (const w of waiters ?? []) w(m.state);
        return;
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------

  /** Every other peer in the session (players, joiners, spectators), not yet dropped. */
  #members(): PeerId[] {
    const out = new Set<PeerId>([...this.#streams.keys(), ...this.#spectators, ...this.#receivers.keys()]);
    out.delete(this.selfId);
    for (const p of this.#dropped) out.delete(p);
    return [...out];
  }

  #isMember(peer: PeerId): boolean {
    return peer === this.selfId || this.#streams.has(peer) || this.#spectators.has(peer);
  }

  /** The lowest-id player that is not leaving (plain code-unit order, same on every peer). */
  #coordinator(): PeerId | undefined {
    if (!this.#sim) return this.#joinedVia && !this.#leaving.has(this.#joinedVia) ? this.#joinedVia : undefined;
    const candidates = [...(this.#sim?.players ?? [])].filter((p) => !this.#leaving.has(p) && !this.#dropped.has(p));
    candidates.sort(byId);
    return candidates[0];
  }

  #sendCtl(to: PeerId, m: Control): void {
    if (!this.#room.peers.has(to)) return;
    this.#ctl.send(to, encodeControl(m)).catch((err: unknown) => this.#log(`control to ${to} failed: ${(err as Error).message}`));
  }

  #stop(reason: string): void {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    if (this.#helloTimer !== undefined) this.#clock.clearTimeout(this.#helloTimer);
    this.#timer = undefined;
    this.#helloTimer = undefined;
    for (const off of this.#offs) off();
    this.#offs = [];
    this.#events.emit('stopped', { reason });
  }
}
