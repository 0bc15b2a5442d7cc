/**
 * A peer in the lobby while a game runs, waiting to be admitted. The coordinator admits a
 * late joiner only once its hello says it is connected to every player (a player's inputs
 * are never forwarded to a player; a spectator joiner needs only a connection to one
 * player, input-relay.ts and control-relay.ts), and not at all with `admitLateJoiners: false`; until then
 * it says nothing, so a peer that reaches only some players (behind a NAT one player
 * cannot get through) waited in silence for good. After NOT_ADMITTED_MS of knowing a game runs (a
 * hello of a member saying it plays) without being admitted, `not-admitted` tells the app
 * once per stay in the lobby, so it can say why the game does not show.
 */
import { MeshpartyError } from '../util/errors.js';
import type { SessionCore } from './session-core.js';

/**
 * How long a peer in the lobby waits for its admission, once it knows a game runs, before
 * `not-admitted` fires. An admission takes a hello round trip and up to a second for the
 * coordinator's periodic retry; 5 s more if the peer was admitted in the last 5 s, longer
 * while a drop is being agreed.
 */
export const NOT_ADMITTED_MS = 15_000;

export class LobbyWait<S, I> {
  /** Clock time this stay in the lobby first heard that a game runs. */
  #since: number | undefined;
  #told = false;

  constructor(private readonly c: SessionCore<S, I>) {}

  /** A hello came: one saying `started` is from a member of a running game. */
  heard(started: boolean): void {
    if (started && this.c.status === 'lobby' && this.#since === undefined) this.#since = this.c.clock.now();
  }

  /** Called about once a second in the lobby. */
  check(): void {
    if (this.c.status !== 'lobby' || this.#since === undefined || this.#told) return;
    const waited = this.c.clock.now() - this.#since;
    if (waited < NOT_ADMITTED_MS) return;
    this.#told = true;
    // Players only: a running spectator answers our hellos too (session.ts), and plays nothing.
    const playing = [...this.c.hellos].filter(([, h]) => h.started && h.role === 'player').map(([p]) => p);
    const unreachable = [...new Set(playing.flatMap((p) => this.c.hellos.get(p)!.connected))].filter((p) => p !== this.c.selfId && !this.c.room.peers.has(p));
    const why = `a game runs (${playing.join(', ')} play${playing.length === 1 ? 's' : ''}) but nobody admitted us within ${waited} ms${unreachable.length ? `; we are not connected to ${unreachable.join(', ')}, and a player joining must be connected to every player, a spectator to one player` : ''}`;
    this.c.log(why);
    this.c.events.emit('not-admitted', { waitedMs: waited, playing, unreachable, reason: new MeshpartyError('not-admitted', why, { playing, unreachable }) });
  }

  /** Left the lobby (started, or taken a join), or back in it: a new stay starts afresh. */
  reset(): void {
    this.#since = undefined;
    this.#told = false;
  }
}
