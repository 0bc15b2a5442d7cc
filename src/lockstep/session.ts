/**
 * A lockstep session: binds a pure {@link Game} to a mesh {@link Room} and a clock.
 *
 * Every tick (60 Hz by default) a player samples its input for frame `frame + delay`
 * and sends every input the receiver has not acknowledged on the unreliable channel
 * (so a lost packet is repaired by the next one, without a retransmission timeout); a
 * frame is stepped only once every active player's input for it is in. Control
 * (start, join, leave, snapshots, hashes) goes on the reliable channel. Wire format and
 * agreement rules: PROTOCOL.md, "Lockstep wire format".
 *
 * This file is the public handle, the start and the dispatch of control messages; the
 * parts share one SessionCore: ticker.ts (the tick and stepping), input-exchange.ts,
 * join-proposals.ts (the coordinator's side of a join), admission.ts (the member's and
 * joiner's side), departures.ts (leaving and drop agreement), spectator-links.ts (a
 * spectator's own lost connections), silent-members.ts (members never heard from),
 * lobby-wait.ts (a peer not admitted to a running game), concurrent-starts.ts (two starts at
 * once), input-relay.ts (a spectator's inputs forwarded by a player), control-relay.ts
 * (control passed on between the coordinator and a spectator it has no connection to), hash-exchange.ts,
 * split-games.ts (the two halves of a game a network outage split, once it heals).
 */
import type { PeerId } from '../mesh/types.js';
import { realClock } from '../util/clock.js';
import { Emitter } from '../util/emitter.js';
import { MeshpartyError } from '../util/errors.js';
import { Admission } from './admission.js';
import { ControlRelay } from './control-relay.js';
import { type StartMessage, startSupersedes } from './concurrent-starts.js';
import { Departures } from './departures.js';
import { HashExchange } from './hash-exchange.js';
import { clampDelay } from './input-delay.js';
import { InputExchange } from './input-exchange.js';
import { InputRelay } from './input-relay.js';
import { InputStream } from './input-stream.js';
import { JoinProposals } from './join-proposals.js';
import { Recorder, type Recording } from './replay.js';
import type { LockstepEvents, LockstepSession, LockstepSessionOptions, LockstepStats } from './session-api.js';
import { checkSessionOptions } from './session-options-check.js';
import { SessionCore, decodeWire } from './session-core.js';
import { LobbyWait } from './lobby-wait.js';
import { SilentMembers } from './silent-members.js';
import { Simulation } from './simulation.js';
import { SpectatorLinks } from './spectator-links.js';
import { SplitGames } from './split-games.js';
import { Ticker } from './ticker.js';
import { type Control, Kind, type Role, type SessionConfig, decodeControl, generationOf } from './wire.js';

/**
 * Create a lockstep session over a room. Throws `bad-argument` for a numeric option out of
 * range (`tickHz` 1–255, `hashEvery` ≥ 1, `maxPlayers` 1–256, whole numbers; `inputDelay`
 * a finite number or `'auto'`), and `channel-in-use` while another session holds the
 * room's channel prefix. On a room already closed it is `stopped` (reason `room-closed`) from the start.
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
  readonly #c: SessionCore<S, I>;

  constructor(opts: LockstepSessionOptions<S, I>) {
    checkSessionOptions(opts);
    const c = (this.#c = new SessionCore(opts, opts.clock ?? realClock(), new Emitter<LockstepEvents>()));
    // Two sessions on one channel prefix in a room would both take every control message
    // and input (each admitting, answering and acknowledging for the same peer id): the
    // second is refused before it sets anything up or says hello, until the first stops.
    const release = c.ctl.claim(`a lockstep session (leave() it first, or pass another options.channel than "${c.prefix}")`);
    c.admission = new Admission(c);
    c.proposals = new JoinProposals(c);
    c.departures = new Departures(c);
    c.inputs = new InputExchange(c);
    c.relay = new InputRelay(c);
    c.control = new ControlRelay(c);
    c.hashing = new HashExchange(c);
    c.ticker = new Ticker(c);
    c.links = new SpectatorLinks(c);
    c.silent = new SilentMembers(c);
    c.lobbyWait = new LobbyWait(c);
    c.splits = new SplitGames(c);
    c.offs.push(
      release,
      () => c.offInput?.(),
      c.ctl.on('message', ({ from, data }) => c.guard(from, () => this.#onControl(from, data))),
      c.room.on('peer-joined', ({ id }) => {
        c.silent.opened(id);
        c.links.back(id);
        c.admission.sayHello();
      }),
      // Our own view of the room, not a message of that peer: handled even for a peer whose
      // messages we ignore (guard() would skip it, and the peer would stay a member for good:
      // a player waited for, or a spectator that every later joiner must be connected to).
      c.room.on('peer-left', ({ id }) => {
        try {
          c.departures.onPeerLeft(id);
          // Our connections changed: a spectator picking a forwarder for a player reads them (input-relay.ts).
          if (c.status === 'running' || c.status === 'joining') c.admission.sayHello();
        } catch (err) {
          c.log(`handling the departure of ${id} failed: ${(err as Error)?.stack ?? err}`);
        }
      }),
      c.room.on('status', (status) => status === 'closed' && c.ticker.stop('room-closed')),
    );
    // A room closed already (left, or a session made after its room ended) sends no status
    // again: without this the session would sit in the lobby, or tick a game nobody hears, for good.
    if (c.room.status === 'closed') c.ticker.stop('room-closed');
    else c.admission.sayHello();
  }

  // ---- public API -------------------------------------------------------------------

  get status(): SessionCore<S, I>['status'] {
    return this.#c.status;
  }
  get role(): Role {
    return this.#c.role;
  }
  get selfId(): PeerId {
    return this.#c.selfId;
  }
  get frame(): number {
    return this.#c.frame;
  }

  get state(): S | undefined {
    return this.#c.sim?.state;
  }

  get players(): readonly PeerId[] {
    return this.#c.sim?.players ?? [];
  }

  get spectators(): readonly PeerId[] {
    return [...this.#c.spectators];
  }

  get inputDelay(): number {
    return this.#c.delays.current;
  }

  on<K extends keyof LockstepEvents>(event: K, listener: (value: LockstepEvents[K]) => void): () => void {
    return this.#c.events.on(event, listener);
  }

  setInput(input: I): void {
    this.#c.localInput = this.#c.game.input.encode(input);
  }

  start(options: { seed?: number; players?: PeerId[]; spectators?: PeerId[] } = {}): void {
    if (this.#c.status !== 'lobby') throw new MeshpartyError('already-started', `session is ${this.#c.status}`);
    const connected = [...this.#c.room.peers.keys()];
    const hello = (p: PeerId) => this.#c.hellos.get(p);
    const players =
      options.players ?? [...(this.#c.role === 'player' ? [this.#c.selfId] : []), ...connected.filter((p) => hello(p)?.role === 'player' && !hello(p)!.started)];
    const spectators =
      options.spectators ?? [...(this.#c.role === 'spectator' ? [this.#c.selfId] : []), ...connected.filter((p) => hello(p)?.role === 'spectator' && !hello(p)!.started)];
    // A peer listed twice would be seated twice (ctx.players, game.init) on every peer.
    for (const [name, list] of [['players', players], ['spectators', spectators]] as const) {
      const twice = list.find((p, i) => list.indexOf(p) !== i);
      if (twice !== undefined) throw new MeshpartyError('bad-argument', `start(): ${name} lists ${twice} twice`, { option: name, peer: twice });
    }
    const max = this.#c.opts.maxPlayers ?? 8;
    const seated = players.slice(0, max);
    const watching = [...spectators, ...players.slice(max)].filter((p) => !seated.includes(p));
    // The starter always takes part: it watches when it did not seat itself.
    if (!seated.includes(this.#c.selfId) && !watching.includes(this.#c.selfId)) watching.push(this.#c.selfId);
    if (seated.length === 0) throw new MeshpartyError('no-players', 'a session needs at least one player');
    const tickHz = this.#c.opts.tickHz ?? 60;
    const config: SessionConfig = {
      seed: (options.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0,
      tickHz,
      delay: this.#chooseDelay(tickHz, [...seated, ...watching]),
      hashEvery: this.#c.opts.hashEvery ?? 10,
    };
    const gen = generationOf(config.seed, this.#c.selfId);
    const msg: Control = { kind: Kind.start, gen, startFrame: 0, players: seated, spectators: watching, ...config };
    for (const p of [...seated, ...watching]) if (p !== this.#c.selfId) this.#c.sendCtl(p, msg);
    this.#begin(msg, this.#c.selfId);
  }

  stats(): LockstepStats {
    const rttMs: Record<PeerId, number | undefined> = {};
    for (const [id, p] of this.#c.room.peers) rttMs[id] = p.rttMs;
    return {
      frame: this.#c.frame,
      tickHz: this.#c.config.tickHz,
      inputDelay: this.#c.delays.current,
      players: [...this.players],
      spectators: this.spectators as PeerId[],
      stalls: this.#c.stalls,
      desyncs: this.#c.desyncs,
      frameAdvantage: this.#c.advantage,
      rttMs,
      inputBytesSent: this.#c.inputBytes,
      inputPacketsSent: this.#c.inputPackets,
    };
  }

  recording(): Recording {
    if (!this.#c.recorder) throw new MeshpartyError('not-started', 'nothing recorded before start');
    return this.#c.recorder.recording();
  }

  stateAt(frame: number): Uint8Array | undefined {
    return this.#c.hashing.stateAt(frame);
  }

  requestState(peer: PeerId, frame: number, timeoutMs?: number): Promise<Uint8Array | undefined> {
    return this.#c.hashing.requestState(peer, frame, timeoutMs);
  }

  hashAt(frame: number): number | undefined {
    return this.#c.localHashes.get(frame);
  }

  leave(): void {
    if (this.#c.status === 'stopped') return;
    if (this.#c.status === 'running' || this.#c.status === 'joining') {
      const since = this.#c.since.get(this.#c.selfId) ?? 0;
      for (const p of this.#c.members()) this.#c.sendCtl(p, { kind: Kind.leave, gen: this.#c.gen, peer: this.#c.selfId, since });
    } else if (this.#c.status === 'lobby') {
      // Our lobby hellos told every peer we would play: without this, a start seats us and a
      // running game admits us, and everyone waits on us 10 s (member-silent). Generation 0
      // is the lobby's (no game's, generationOf); a peer of an older build ignores it.
      for (const p of this.#c.room.peers.keys()) this.#c.sendCtl(p, { kind: Kind.leave, gen: 0, peer: this.#c.selfId, since: 0 });
    }
    this.#c.ticker.stop('left');
  }

  // ---- starting and control messages -----------------------------------------------

  #chooseDelay(tickHz: number, members: PeerId[]): number {
    const d = this.#c.opts.inputDelay ?? 2;
    if (d !== 'auto') return clampDelay(Math.round(d));
    const rtts = members.map((p) => this.#c.room.peers.get(p)?.rttMs).filter((r): r is number => typeof r === 'number');
    const maxRtt = rtts.length ? Math.max(...rtts) : 0;
    return Math.max(2, Math.min(15, Math.ceil(maxRtt / 2 / (1000 / tickHz)) + 2));
  }

  #begin(m: StartMessage, starter: PeerId): void {
    this.#c.starter = starter;
    this.#c.config = { seed: m.seed, tickHz: m.tickHz, delay: m.delay, hashEvery: m.hashEvery };
    this.#c.inputs.useGeneration(m.gen);
    this.#c.delays.reset(m.delay);
    this.#c.role = m.players.includes(this.#c.selfId) ? 'player' : 'spectator';
    for (const p of m.players) this.#c.streams.set(p, new InputStream(m.startFrame, m.delay, this.#c.neutral));
    for (const p of m.spectators) this.#c.spectators.add(p);
    for (const p of [...m.players, ...m.spectators]) {
      // Their lobby hellos are stale from now on: one left over would admit a member that
      // leaves the game (but not the room) straight back in. Only a later hello may.
      this.#c.hellos.delete(p);
      this.#c.since.set(p, m.startFrame);
      if (p !== this.#c.selfId) this.#c.receivers.set(p, m.startFrame + m.delay);
      this.#c.silent.expect(p);
    }
    this.#c.myNext = m.startFrame + m.delay;
    this.#c.recorder = new Recorder({ game: this.#c.game.name, seed: m.seed, startFrame: m.startFrame, players: m.players }, this.#c.opts.recording);
    const rec = this.#c.recorder;
    this.#c.sim = Simulation.start(this.#c.game, m.seed, m.players, m.startFrame, (f) => rec.step(f));
    this.#c.ticker.running();
  }

  /** Leave our game for a concurrent start that won (concurrent-starts.ts); nothing of ours was stepped on inputs. */
  #moveTo(winner: PeerId, m: StartMessage): void {
    const c = this.#c;
    const lost = { frame: c.frame, starter: c.starter!, winner };
    c.log(`moving to ${winner}'s game: its start wins over ${lost.starter}'s (lower id)`);
    // Members our game shares with the winning one take its start too; any other would wait
    // for us until we count as silent: tell it we left, as a leaving player does.
    const since = c.since.get(c.selfId) ?? 0;
    const coming = new Set([...m.players, ...m.spectators]);
    for (const p of c.members()) if (!coming.has(p)) c.sendCtl(p, { kind: Kind.leave, gen: c.gen, peer: c.selfId, since });
    c.admission.forgetGame();
    c.events.emit('start-lost', lost);
    this.#begin(m, winner);
  }

  #onControl(from: PeerId, data: Uint8Array, relayed = false): void {
    const m = decodeWire(() => decodeControl(data));
    if (m.kind === Kind.hello) {
      if (!m.started) this.#c.departures.backInLobby(from, m.after);
      this.#c.hellos.set(from, { role: m.role, started: m.started, connected: m.connected, after: m.after, relayed });
      const had = this.#c.peerLinks.get(from);
      this.#c.peerLinks.set(from, new Set(m.connected));
      // A player's connection closed: spectators nobody reaches any more are gone (Departures.reached).
      if (had && this.#c.isPlayer(from)) this.#c.departures.forgetUnreached([...had].filter((p) => !m.connected.includes(p)));
      // The other half of our game, split from it by lost connections: the smaller half gives way (split-games.ts).
      if (!relayed && this.#c.splits.onHello(from, m)) return;
      // A peer in the lobby hears whom we are connected to (it may be admitted as a spectator
      // that needs a forwarder, input-relay.ts): our hello sent when it joined the room may
      // have come before its session. Only lobby hellos are answered, so two members never
      // answer each other in a loop; a lobby peer repeats its hello every second.
      if (!m.started && (this.#c.status === 'running' || this.#c.status === 'joining')) this.#c.admission.sayHelloTo(from);
      this.#c.lobbyWait.heard(m.started);
      this.#c.proposals.maybeAdmit(from, true);
      this.#c.control.onLobbyHello(from, m, data);
      return;
    }
    if (m.kind === Kind.relay) return this.#c.control.onRelay(from, m, (origin, inner) => this.#onControl(origin, inner, true));
    if (m.kind === Kind.start) {
      if (!(m.players.includes(this.#c.selfId) || m.spectators.includes(this.#c.selfId))) return;
      // A start's generation names its starter too (generationOf): two starts at once, even
      // with one seed, are then two generations, which concurrent-starts.ts needs to move over.
      if (m.gen !== generationOf(m.seed, from)) return this.#c.badMessage(from, `a start from ${from} with generation ${m.gen}, not its own (${generationOf(m.seed, from)})`);
      if (this.#c.status === 'running' && startSupersedes(this.#c, from, m)) return this.#moveTo(from, m);
      if (this.#c.status !== 'lobby') return;
      // Only a peer in the lobby with us (its hello says so) starts a game, and it takes part
      // (start() always lists the starter): any room peer can reach this channel, and one
      // running no session at all could otherwise start us into a game of its making.
      const starter = this.#c.hellos.get(from);
      if (!starter || starter.started || !(m.players.includes(from) || m.spectators.includes(from))) {
        return this.#c.badMessage(from, `a start from ${from}, ${starter ? (starter.started ? 'which already plays' : 'which takes no part in it') : 'which never said hello from the lobby'}`);
      }
      return this.#begin(m, from);
    }
    // Who may send what (PROTOCOL.md, "Validation"): any peer of the room can reach this
    // channel, and a forged leave, drop or snapshot would drop a player or feed us inputs.
    if (m.kind === Kind.join && m.peer === this.#c.selfId) {
      if (!m.members.some(([, p]) => p === from) || this.#c.hellos.get(from)?.role === 'spectator') return this.#c.badMessage(from, 'a join for us from a peer that is no player of that session');
      return this.#c.admission.onJoinSelf(from, m);
    }
    if (m.kind === Kind.snapshot) {
      if (this.#c.status === 'joining' && from !== this.#c.joinedVia) return this.#c.badMessage(from, `a snapshot from ${from}, not the coordinator that admitted us`);
      return this.#c.admission.onSnapshot(m);
    }
    // A session that left from the lobby (leave()): its hello is stale, it plays nothing we start or admit.
    if (m.kind === Kind.leave && m.gen === 0 && m.peer === from) this.#c.hellos.delete(from);
    if (m.gen !== this.#c.gen || this.#c.status === 'lobby' || this.#c.status === 'stopped') return;
    // A report from a non-member is only a question (a joiner whose join was cancelled asks for the drop).
    if (!this.#c.isMember(from) && m.kind !== Kind.report && !(m.kind === Kind.leave && m.peer === from)) {
      // A spectator does not list a spectator that no player it is connected to reached when
      // its join came (Departures.reached: it hears no other player's hello), while that one lists it
      // and sends it its hashes once the connection opens: no fault of the sender's. Counted
      // as bad, they made us ignore it for good after some 17 s, in later games of the room too.
      if (m.kind === Kind.hash && this.#c.role === 'spectator' && this.#c.hellos.get(from)?.role === 'spectator') return;
      return this.#c.badMessage(from, `control message ${m.kind} from ${from}, not a member of this session`);
    }
    switch (m.kind) {
      case Kind.join:
        this.#c.admission.onJoin(from, m);
        return this.#c.control.passOn(from, m);
      case Kind.joinAck:
        this.#c.pendingJoins.get(m.peer)?.acks.add(from);
        return this.#c.control.acked(from, m.peer, m.atFrame);
      case Kind.hash:
        this.#c.delays.announced(from, m.delay);
        this.#c.hashing.onHash(from, m.frame, m.hash, m.players);
        return this.#c.control.passOnHash(from, m);
      case Kind.leave:
        // A leaver announces itself; anyone else's departure only a player announces. A
        // spectator's view of its own links concerns only itself (spectator-links.ts).
        if (m.peer !== from && !this.#c.streams.has(from)) return this.#c.badMessage(from, `a leave of ${m.peer} from ${from}, not a player: only players' views count`);
        // A joiner before its snapshot cannot tell a spectator from a player (isPlayer): it
        // hears of departures from the coordinator that admitted it, its drops, and the snapshot.
        if (m.peer !== from && !this.#c.isPlayer(from)) return this.#c.log(`ignoring a leave of ${m.peer} from ${from}: we do not know yet whether it plays`);
        // A spectator says goodbye only to the players it reaches, and one taking inputs
        // forwarded reaches not all of them: each player it reached passes its own leave on,
        // or a player it never reached would list it for as long as it stays in the room.
        // A player it is passed on to passes it to its spectators: one with no connection to
        // a player the leaver reached, and not listed by the leaver (no connection between
        // them when its join came), heard nothing, and listed the leaver for as long as the
        // connection they have now lasted.
        if (this.#c.role === 'player' && this.#c.spectators.has(m.peer)) {
          if (m.peer === from) {
            for (const p of this.#c.members()) if (p !== from) this.#c.sendCtl(p, m);
          } else if (this.#c.since.get(m.peer) === m.since) {
            for (const p of this.#c.spectators) if (p !== m.peer) this.#c.sendCtl(p, m);
          }
        }
        if (m.peer === from) this.#c.proposals.leftItself(from, m.since);
        return this.#c.departures.onLeave(m);
      case Kind.report:
        return this.#c.departures.onReport(from, m);
      case Kind.drop:
        // Drops are decided by a coordinator, which is a player, never the leaver itself.
        if (!this.#c.streams.has(from) || from === m.leaver) return this.#c.badMessage(from, `a drop of ${m.leaver} from ${from}, not a player that could decide it`);
        this.#c.departures.applyDrop(m);
        return this.#c.control.passOn(from, m);
      case Kind.stateReq:
        return this.#c.hashing.onStateRequest(from, m.frame);
      case Kind.stateRes:
        return this.#c.hashing.onState(from, m.frame, m.state);
      case Kind.cutOff:
        // Only a player sends inputs, so only a player can stop sending them.
        if (!this.#c.streams.has(from)) return this.#c.badMessage(from, `a cut-off notice from ${from}, not a player that sends us inputs`);
        return this.#c.admission.onCutOff(from, m);
    }
  }
}
