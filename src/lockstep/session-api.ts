/**
 * The public shape of a lockstep session: its options, events, figures and handle.
 * The implementation is `session.ts`.
 */
import type { PeerId, Room } from '../mesh/types.js';
import type { Clock } from '../util/clock.js';
import type { MeshpartyError } from '../util/errors.js';
import type { Game } from './game.js';
import type { RecordingLimits } from './recording-limits.js';
import type { Recording } from './replay.js';
import type { Role } from './wire.js';

/**
 * Options of {@link createLockstepSession}.
 *
 * @example
 * ```ts
 * const options: LockstepSessionOptions<State, Buttons<'up' | 'down' | 'fire'>> = {
 *   room,
 *   game: pong,
 *   inputDelay: 'auto', // from the measured round trips
 *   input: () => readKeyboard(), // sampled once per new frame
 *   maxPlayers: 4, // the fifth and later watch
 * };
 * const session = createLockstepSession(options);
 * ```
 */
export interface LockstepSessionOptions<S, I> {
  room: Room;
  game: Game<S, I>;
  /** Time source (default: the real clock). Tests pass a ManualClock. */
  clock?: Clock;
  /** Simulation ticks per second, a whole number 1–255 (default 60). Set by the peer that starts. */
  tickHz?: number;
  /**
   * Frames between sampling an input and stepping it (default 2; a number is clamped to
   * 0–60). The starter's choice is every player's delay at the start (and a late joiner's
   * at its join): `'auto'` picks `ceil(maxRtt / 2 / frameMs) + 2` from the room's measured
   * RTTs, clamped to 2–15. A number stays fixed for the whole game. With `'auto'` a player
   * also adapts its own delay during the game (each peer decides for itself, by its own
   * option, and every peer still steps the same inputs): it goes up
   * a frame a tick while the round trip to the other players needs more
   * (`ceil(rtt / 2 / frameMs) + 2`, from the smoothed RTT) or while inputs keep arriving
   * late (3 stalls within a second add a frame of margin, at most 10, one taken back after
   * 10 s without such a stall; only stalls whose frame could step within 3 frames of
   * waiting count, jitter more delay absorbs, not a freeze it would not hide; a frame of
   * margin after which the stalls are no shorter is taken back), and down
   * one frame at a time, only after what is needed stayed
   * lower for 3 s (with half a frame of hysteresis), within 0–60. Read it from
   * `session.inputDelay`, or follow it with the `input-delay` event.
   *
   * @example
   * ```ts
   * const session = createLockstepSession({ room, game, inputDelay: 'auto' });
   * session.on('input-delay', ({ delay }) => (hud.delay.textContent = `${delay} frames`));
   * ```
   */
  inputDelay?: number | 'auto';
  /** Exchange a state hash every K frames, a whole number ≥ 1 (default 10). */
  hashEvery?: number;
  /**
   * Join as a spectator: receive inputs, never send any (default false). A spectator
   * needs a connection to one player only: the inputs of a player it cannot reach are
   * forwarded to it by a player it can (the lowest-id one that reaches that player; if it
   * leaves, the next), and without a connection to the coordinator (the lowest-id player)
   * its admission, joins and drops come through its forwarder for the coordinator. A
   * forwarder could alter what it forwards: that misleads only this spectator's view,
   * never the players' game.
   *
   * @example
   * ```ts
   * // Behind a NAT that one player cannot get through: watches anyway, through another player.
   * const watch = createLockstepSession({ room, game: lightCycles, spectator: true });
   * ```
   */
  spectator?: boolean;
  /** As coordinator, admit peers who arrive mid-game (default true). */
  admitLateJoiners?: boolean;
  /** Most players at once, 1–256; further joiners become spectators (default 8). */
  maxPlayers?: number;
  /**
   * Channel name prefix, so one room can hold several sessions (default `lockstep`). One
   * session per prefix and room at a time: another throws `channel-in-use` until the first
   * has stopped (`leave()`, its room closed, or `game-error`: see `stopped`).
   */
  channel?: string;
  /**
   * Read for the local input once per tick that gives this player new input frames (not
   * while the session waits for other players, so a value it returns always reaches a
   * frame: it may latch a key tap until read); otherwise the last `setInput` value is used.
   * When it throws or returns what `game.input` cannot encode, the last input is played on
   * (logged once per run of failures), so a broken sampler never stalls the game.
   */
  input?: () => I;
  /** Where dropped messages and protocol oddities are reported (default console.warn). */
  log?: (message: string) => void;
  /**
   * Caps on this peer's recording of each game (default: none, so `recording()` holds the
   * whole game, about 40 MB a day of play). At a cap the recording stops and its
   * `truncated` says which; the game plays on. A limit that is not a whole number ≥ 0
   * throws `bad-argument` here, naming it (`recording.maxFrames`).
   *
   * @example
   * ```ts
   * // A kiosk left running for days: keep at most 2 hours (60 Hz) of each game's replay.
   * const session = createLockstepSession({ room, game, recording: { maxFrames: 2 * 60 * 60 * 60 } });
   * ```
   */
  recording?: RecordingLimits;
}

/**
 * Events of a {@link LockstepSession}; every `on()` returns its unsubscribe function.
 *
 * @example
 * ```ts
 * const offs = [
 *   session.on('started', ({ players }) => showScoreboard(players)),
 *   session.on('frame', () => draw(session.state!)),
 *   session.on('player-left', ({ peer }) => toast(`${nameOf(peer)} left`)),
 *   session.on('desync', async ({ frame, dump }) => report(frame, await dump())),
 * ];
 * offs.forEach((off) => off());
 * ```
 */
export interface LockstepEvents {
  started: { frame: number; players: PeerId[]; spectators: PeerId[]; seed: number; inputDelay: number; tickHz: number };
  /** A frame was stepped; `frame` is the new frame number (state is `session.state`). */
  frame: { frame: number };
  /** A tick could not step `frame` for lack of these players' inputs (once per frame). */
  stall: { frame: number; waitingOn: PeerId[] };
  /**
   * Members computed different states at `frame`: fires once per divergence, at the first
   * hashed frame where a member's hash differs from ours, with every member's hash there
   * and `dump()` to fetch their serialized states of that frame. While those members stay
   * apart, later hashed frames raise nothing more (a broken game would otherwise fire at
   * every hashed frame); once a later hashed frame agrees with them again (their states
   * converged), a new difference fires again, and so does one with another member. A new
   * game (a start, or this peer's admission again) starts with no divergence.
   * `stats().desyncs` counts these events.
   *
   * @example
   * ```ts
   * session.on('desync', async ({ frame, hashes, dump }) => bugReport({ frame, hashes, states: await dump() }));
   * ```
   */
  desync: { frame: number; hashes: Record<PeerId, number>; dump(): Promise<Record<PeerId, Uint8Array | undefined>> };
  /**
   * This player's input delay changed (`inputDelay: 'auto'` adapts it during the game; see
   * {@link LockstepSessionOptions.inputDelay}): inputs sampled from now on are stepped
   * `delay` frames later, instead of `previous`. `frame` is the frame reached. Never fires
   * with a fixed delay, nor for a spectator.
   *
   * @example
   * ```ts
   * session.on('input-delay', ({ delay, previous }) => console.info(`input delay ${previous} -> ${delay} frames`));
   * ```
   */
  'input-delay': { frame: number; delay: number; previous: number };
  'player-joined': { peer: PeerId; atFrame: number; role: Role };
  'player-left': { peer: PeerId; atFrame: number };
  /**
   * This peer cannot follow the game any more and left it to be admitted again with a
   * fresh snapshot of a later frame: `status` is `lobby` (then `joining`) until `started`
   * fires again. `frame` is the frame it had reached; `reason.code` is stable:
   * - `fell-behind`: a player stopped sending it inputs, as it had acknowledged none for
   *   more than 3600 frames (a minute at 60 Hz: its packets were lost, or its tab was
   *   suspended, for that long); or, for a spectator taking a player's inputs through
   *   another player (its forwarder), the forwarder no longer held the ones it lacked (it
   *   keeps other players' inputs at least 240 frames back: the spectator picked it, or
   *   asked it again after a suspended tab, that far behind). `reason.detail.by` is the
   *   player that stopped sending, `reason.detail.player` the one whose inputs it lacks
   *   (the same one, unless `by` forwarded them);
   * - `players-gone`: a spectator's connections to every player closed (a network outage,
   *   a tab suspended long enough for heartbeats to time out), or every player left;
   * - `player-unreachable`: a spectator's connection to one player closed while the players
   *   still play with it (only players' views decide who is gone, so it stays in the game):
   *   the spectator got neither a drop of it nor its inputs (from it, or forwarded by another
   *   player) within 5 s, or the connection opened again while nobody forwards that player's
   *   inputs (it stopped sending them when the old one closed); or for 5 s neither the
   *   coordinator nor a player that reaches it passed the coordinator's joins and drops on.
   *   It is admitted again once connected to a player;
   * - `inputs-lost`: a player was dropped while inputs of it this peer still lacked were
   *   gone for good (a spectator lagging further back than a drop hands out);
   * - `past-drop`: a player was dropped at a frame this peer had already stepped past;
   * - `coordinator-left`: the player that admitted it vanished or left the game (it may stay
   *   in the room) before sending its snapshot;
   * - `join-cancelled`: its join was cancelled (the player that proposed it was dropped first);
   * - `join-dropped`: the players dropped its admission before its snapshot came (a member
   *   had no connection to it when the join arrived, say, or its connections closed);
   * - `no-snapshot`: no snapshot came within 10 s of its join (the peer that sent the join
   *   stopped playing without leaving, or plays no game: any peer of the room can send one);
   *   each such admission in a row doubles the next one's wait, up to 80 s (a big state
   *   over a slow link can take longer than 10 s);
   * - `dropped`: the players dropped this player while it is still in the room (its link to
   *   one of them closed, so each reported the other gone). It is admitted again once it
   *   reaches every player; before, its session stopped for good.
   * - `split`: a network outage closed every connection between this peer's group of
   *   players and another (each dropped the other), and once they opened again the other
   *   group's game outranks its own (more players; at equal size, the one that kept playing:
   *   further on as the two met again, by more than a quarter second of frames with one
   *   player a side (a second with more), e.g. while this peer's tab was stopped; else the
   *   lower lowest id). It is admitted into that game; before,
   *   both games ran on apart for good. `detail.frames` has both games' frames as they met.
   *
   * The coordinator admits it again unless it runs with `admitLateJoiners: false` (then it
   * stays in the lobby), and never sooner than 5 seconds after its previous late join.
   *
   * @example
   * ```ts
   * session.on('rejoining', ({ reason }) => {
   *   if (reason.code === 'fell-behind') banner.show('Catching up with the game…');
   * });
   * session.on('started', () => banner.hide());
   * ```
   */
  rejoining: { frame: number; reason: MeshpartyError };
  /**
   * This peer cannot play with a member any more; `reason.code` is stable:
   * - `member-silent`: it was never heard from within 10 s of its admission (our start, its
   *   join, or our snapshot): it missed or ignored the start (its session was not in the
   *   lobby, or had stopped), or there is no working link to it;
   * - `member-ignored`: it sent 100 bad messages (another version of the game, or a broken
   *   or hostile peer), so its packets and acknowledgements are ignored from now on.
   *
   * This peer plays on without it: a player is dropped at a frame the players agree on
   * (`player-left` follows), a spectator stops being a member. A spectator hearing this
   * about a player waits 5 s more for the players to drop it, then goes back to the lobby
   * (`rejoining`, `player-unreachable`). Before, one such member froze the game for everyone.
   */
  absent: { peer: PeerId; role: Role; frame: number; reason: MeshpartyError };
  /**
   * This peer is in the lobby, a game runs in the room (a player's hello says so), and no
   * player admitted it within 15 s (`NOT_ADMITTED_MS`); fires once per stay in the lobby.
   * `reason.code` is `not-admitted`. The coordinator admits a late joiner only once it is
   * connected to every player, to play, or to one player, to watch (inputs and control are
   * forwarded to spectators only), and only with `admitLateJoiners`; `playing` lists the players whose
   * hellos it has, `unreachable` peers they are connected to and this peer is not (a
   * firewall or NAT between them), the usual cause. `started` follows if it is admitted later.
   *
   * @example
   * ```ts
   * session.on('not-admitted', ({ unreachable }) =>
   *   banner.show(unreachable.length ? `Cannot reach ${unreachable.join(', ')}: cannot join this game` : 'Waiting for the next round'));
   * ```
   */
  'not-admitted': { waitedMs: number; playing: PeerId[]; unreachable: PeerId[]; reason: MeshpartyError };
  /**
   * Two starts met (friends pressing Start at about the same time): the one that began this
   * peer's game lost to a concurrent one, whose starter has the lower id, and this peer left
   * its game for the winning one (`started` follows, with the winner's players and seed).
   * Nothing of the game left was played: its first `delay` frames are neutral by rule and
   * it could step no further without the winning starter, which never played it.
   * `starter` started the game left, `winner` the one played now; `frame` is the frame the
   * game left had reached.
   *
   * @example
   * ```ts
   * session.on('start-lost', ({ winner }) => toast(`${nameOf(winner)} started too: playing their game`));
   * ```
   */
  'start-lost': { frame: number; starter: PeerId; winner: PeerId };
  /**
   * The session ended for good: `left` (`leave()`), `room-closed` (its room closed, or was
   * closed already when the session was made), or `game-error`: the game's `step`,
   * `serialize`, `hash` or `input.decode` threw (the error is logged), also on the start
   * frame, so this peer left the game; the others play on without it, or stop too when the
   * throw is deterministic. A player the others drop goes back to the lobby instead
   * (`rejoining`, code `dropped`).
   */
  stopped: { reason: string };
}

/**
 * Figures for an overlay or a benchmark.
 *
 * @example
 * ```ts
 * const { frame, stalls, frameAdvantage, rttMs }: LockstepStats = session.stats();
 * overlay.textContent = `frame ${frame} · stalls ${stalls} · ahead ${frameAdvantage} · ${JSON.stringify(rttMs)}`;
 * ```
 */
export interface LockstepStats {
  frame: number;
  tickHz: number;
  /** This player's current input delay (see `session.inputDelay`). */
  inputDelay: number;
  players: PeerId[];
  spectators: PeerId[];
  stalls: number;
  /** `desync` events so far: divergences, not every hashed frame that differed. */
  desyncs: number;
  /** Estimated frames this peer runs ahead of the slowest player (positive: ahead). */
  frameAdvantage: number;
  rttMs: Record<PeerId, number | undefined>;
  inputBytesSent: number;
  inputPacketsSent: number;
}

/**
 * The handle returned by {@link createLockstepSession}.
 *
 * @example
 * ```ts
 * const session: LockstepSession<State, Pad> = createLockstepSession({ room, game });
 * startButton.onclick = () => session.start({ seed: Date.now() >>> 0 });
 * addEventListener('keydown', () => session.setInput(readKeyboard()));
 * addEventListener('beforeunload', () => session.leave());
 * ```
 */
export interface LockstepSession<S, I> {
  readonly selfId: PeerId;
  /** `lobby` before start, `joining` while a late joiner waits for its snapshot. */
  readonly status: 'lobby' | 'joining' | 'running' | 'stopped';
  readonly role: Role;
  readonly frame: number;
  /** The current state (undefined before start). Read it to draw; never mutate it. */
  readonly state: S | undefined;
  readonly players: readonly PeerId[];
  readonly spectators: readonly PeerId[];
  /**
   * This player's current input delay in frames: the start's, then, with `inputDelay:
   * 'auto'`, as adapted during the game (`input-delay` events). A spectator's is the start's.
   */
  readonly inputDelay: number;
  /** Set the local input used from the next tick on. */
  setInput(input: I): void;
  /**
   * Start the game. Players default to this peer plus every connected peer whose session
   * said it is a player; the rest watch. Peers take a start only from a peer whose session
   * said hello to them from the lobby, and which the start lists (this peer always is).
   * If another peer starts at about the same time (before either start arrived), the start
   * of the lower peer id wins on every peer: members of the other game leave it before any
   * of its inputs mattered and play the winning one (`start-lost`, then `started`), even
   * when both pass the same `seed` (a game is named by its seed and its starter).
   * Throws a MeshpartyError `already-started` unless the session is in the lobby
   * (`status`), `no-players` when nobody would play, and `bad-argument` when `players` or
   * `spectators` lists a peer twice.
   */
  start(options?: { seed?: number; players?: PeerId[]; spectators?: PeerId[] }): void;
  stats(): LockstepStats;
  /**
   * Everything needed to replay this session with `playReplay`: copies, decoded afresh
   * (a call costs O(frames)). Its `truncated` is set once the `recording` option's cap was
   * reached. Throws a MeshpartyError `not-started` while there is no game to record
   * (before the start, or a late joiner's snapshot).
   */
  recording(): Recording;
  /** This peer's hash of a hashed frame (every `hashEvery`), while remembered. */
  hashAt(frame: number): number | undefined;
  /** This peer's serialized state at a recent hashed frame. */
  stateAt(frame: number): Uint8Array | undefined;
  /** Ask a peer for its serialized state at a recent hashed frame (desync forensics). */
  requestState(peer: PeerId, frame: number, timeoutMs?: number): Promise<Uint8Array | undefined>;
  on<K extends keyof LockstepEvents>(event: K, listener: (value: LockstepEvents[K]) => void): () => void;
  /**
   * Leave the game (others drop this player at an agreed frame) and stop ticking. From the
   * lobby it tells the room's peers too, so no start seats it and no game admits it.
   */
  leave(): void;
}
