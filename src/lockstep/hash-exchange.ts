/**
 * Desync detection: hash every `hashEvery`-th frame, send it to the members computing
 * that frame, judge once all are in (HashBook), and fetch states for a desync's dump.
 */
import type { PeerId } from '../mesh/types.js';
import type { HashVerdict } from './hash-book.js';
import type { SessionCore } from './session-core.js';
import { Kind } from './wire.js';
import { fnv1a32 } from '../util/fnv1a.js';

/** Serialized states kept for the most recent hashed frames (a desync dump asks for one). */
const KEEP_STATES = 32;
/**
 * A member's hash of a frame further than this from ours, either way, is neither kept nor
 * judged (the book prunes 1200 back): an older one comes from a member far behind (a
 * lagging spectator), a newer one means we are the one far behind.
 *
 * @example
 * ```ts
 * const judged = Math.abs(hashedFrame - ourFrame) <= HASH_WINDOW;
 * ```
 */
export const HASH_WINDOW = 1024;
/**
 * State requests of one peer answered with a state per second at most. A request is a few
 * bytes and its answer a whole serialized state, so a member asking in a loop would have
 * us send states over and over (its queue at our end growing, our uplink taken from the
 * inputs). A desync's dump asks each member once; requests past the budget are answered
 * without a state (`has` = 0), so the asker's requestState resolves undefined at once.
 *
 * @example
 * ```ts
 * const state = sentThisSecond < STATES_PER_SECOND ? stateAt(frame) : undefined;
 * ```
 */
export const STATES_PER_SECOND = 8;

/**
 * A digest of the players a frame was stepped with (in their agreed order), sent with its
 * hash: a member whose digest differs computed the frame before applying a drop we applied
 * (a spectator past the drop frame), a state the drop throws away (see HashBook).
 *
 * @example
 * ```ts
 * const players = playersDigest(sim.players);
 * ```
 */
export function playersDigest(players: readonly PeerId[]): number {
  return fnv1a32(new TextEncoder().encode(players.join('\u0000')));
}

/** Our own hashes kept to judge relayed ones against (a relayed hash may come a little after we hashed the frame). */
const KEEP_OWN_FOR_RELAYED = 64;

type Hashed = { hash: number; players: number };

export class HashExchange<S, I> {
  /** State requests answered per peer in its current one-second window (see STATES_PER_SECOND). */
  readonly #sent = new Map<PeerId, { since: number; count: number }>();
  /** Our recent hashes, with their players' digest, for relayed hashes (control-relay.ts). */
  readonly #own = new Map<number, Hashed>();
  /** Relayed hashes of frames we have not hashed yet, by frame. */
  readonly #early = new Map<number, Map<PeerId, Hashed>>();
  /**
   * Members whose state is apart from ours (a desync was raised about them), with the latest
   * hashed frame they differed at: no new `desync` about them until a later frame agrees.
   */
  readonly #apart = new Map<PeerId, number>();

  constructor(private readonly c: SessionCore<S, I>) {}

  /** A member's stateReq: our state at that frame, within its budget. */
  onStateRequest(from: PeerId, frame: number): void {
    const now = this.c.clock.now();
    for (const [p, w] of this.#sent) if (now - w.since >= 1000) this.#sent.delete(p); // one entry per recent asker
    const w = this.#sent.get(from) ?? { since: now, count: 0 };
    this.#sent.set(from, w);
    const state = w.count < STATES_PER_SECOND ? this.stateAt(frame) : undefined;
    if (w.count++ === STATES_PER_SECOND) this.c.log(`answering ${from}'s state requests without a state for up to a second: more than ${STATES_PER_SECOND} in one`);
    this.c.sendCtl(from, { kind: Kind.stateRes, gen: this.c.gen, frame, state });
  }

  stateAt(frame: number): Uint8Array | undefined {
    return this.c.states.get(frame);
  }

  requestState(peer: PeerId, frame: number, timeoutMs = 5000): Promise<Uint8Array | undefined> {
    if (peer === this.c.selfId) return Promise.resolve(this.stateAt(frame));
    return new Promise((resolve) => {
      const key = `${peer}\u0000${frame}`;
      let done = false;
      const finish = (s: Uint8Array | undefined) => {
        if (done) return;
        done = true;
        this.c.clock.clearTimeout(timer);
        // Unlisted on every path (answer, timeout, stop), so waiters never pile up.
        const rest = (this.c.stateWaiters.get(key) ?? []).filter((w) => w !== finish);
        if (rest.length) this.c.stateWaiters.set(key, rest);
        else this.c.stateWaiters.delete(key);
        resolve(s);
      };
      const timer = this.c.clock.setTimeout(() => finish(undefined), timeoutMs);
      if (this.c.status === 'stopped') return finish(undefined);
      const list = this.c.stateWaiters.get(key) ?? [];
      list.push(finish);
      this.c.stateWaiters.set(key, list);
      this.c.sendCtl(peer, { kind: Kind.stateReq, gen: this.c.gen, frame });
    });
  }

  /** A member's answer to requestState. */
  onState(from: PeerId, frame: number, state: Uint8Array | undefined): void {
    for (const w of [...(this.c.stateWaiters.get(`${from}\u0000${frame}`) ?? [])]) w(state);
  }

  /** The session stopped: every pending requestState resolves undefined and its timer goes. */
  cancelRequests(): void {
    for (const list of [...this.c.stateWaiters.values()]) for (const w of [...list]) w(undefined);
  }

  /**
   * A member's hash (the session checked it is a member). Only hashed frames within
   * HASH_WINDOW of ours make an entry: anything else would sit in the book until pruned.
   * One far ahead is no fault of the sender's: it is we who lag (our inputs stopped
   * coming); counting those as bad messages would have us ignore every player, and then
   * their cut-off notice and our next admission, for good.
   */
  onHash(from: PeerId, frame: number, hash: number, players = 0): void {
    const ours = this.c.sim?.frame ?? this.c.since.get(this.c.selfId) ?? 0;
    if (frame % this.c.config.hashEvery !== 0) return this.c.badMessage(from, `hash of frame ${frame}, not a hashed frame`);
    if (frame < ours - HASH_WINDOW) return; // a member far behind (a lagging spectator): past judging
    if (frame > ours + HASH_WINDOW) return; // we are far behind: nothing of ours to judge it against soon
    this.judge([this.c.hashes.remote(from, frame, hash, players)]);
  }

  /**
   * A member's hash relayed by a player between us and it (control-relay.ts: a spectator and
   * a player it reaches only through a forwarder). Judged on its own against ours, never
   * waited for (the book waits only for members we have a connection to): a relayed hash
   * may never come (the spectator lags, or changes forwarders), and waiting for one would
   * judge no frame ever.
   */
  onRelayedHash(from: PeerId, frame: number, hash: number, players: number): void {
    const ours = this.c.sim?.frame ?? this.c.since.get(this.c.selfId) ?? 0;
    if (frame % this.c.config.hashEvery !== 0 || Math.abs(frame - ours) > HASH_WINDOW) return;
    const own = this.#own.get(frame);
    if (own) return this.#judgeRelayed(frame, own, from, { hash, players });
    if (frame < ours) return; // hashed and forgotten (or never: we joined after it)
    const early = this.#early.get(frame) ?? new Map<PeerId, Hashed>();
    early.set(from, { hash, players });
    this.#early.set(frame, early);
    for (const f of this.#early.keys()) if (f < ours - HASH_WINDOW || f > ours + HASH_WINDOW) this.#early.delete(f);
  }

  #judgeRelayed(frame: number, own: Hashed, from: PeerId, theirs: Hashed): void {
    // Another set of players: a spectator past a drop frame (see HashBook), not judged.
    if (theirs.players !== own.players) return this.c.log(`relayed hash of frame ${frame} from ${from} not judged: stepped with other players than ours (a drop it had not applied yet)`);
    this.judge([{ frame, hashes: { [this.c.selfId]: own.hash, [from]: theirs.hash }, equal: own.hash === theirs.hash }]);
  }

  hashFrame(): void {
    const sim = this.c.sim!;
    const frame = sim.frame;
    const state = sim.serialize();
    const hash = this.c.game.hash(sim.state) >>> 0;
    this.c.localHashes.set(frame, hash);
    this.c.states.set(frame, state);
    for (const f of this.c.states.keys()) if (this.c.states.size > KEEP_STATES) this.c.states.delete(f);
    for (const f of this.c.localHashes.keys()) if (this.c.localHashes.size > 1024) this.c.localHashes.delete(f);
    this.c.recorder?.hash(frame, hash);
    // Only members we have a connection to can send us theirs (a spectator watching through
    // a forwarder may have none to us): waiting for another's would judge no frame ever. A
    // player whose inputs we take forwarded may have forgotten us when our link closed
    // (input-relay.ts): it would take our hashes for a stranger's, and send none.
    const members = this.c.members().filter((p) => !this.c.leaving.has(p) && this.c.isComputing(p, frame) && this.c.room.peers.has(p) && !this.c.relay.forwarded(p));
    const players = playersDigest(sim.players);
    for (const p of members) this.c.sendCtl(p, { kind: Kind.hash, gen: this.c.gen, frame, hash, players, delay: this.c.delays.current });
    this.judge([this.c.hashes.local(frame, hash, members, players)]);
    // Members we reach only through a player get ours relayed by it, and we theirs.
    this.c.control.relayOwnHash({ kind: Kind.hash, gen: this.c.gen, frame, hash, players, delay: this.c.delays.current });
    const own = { hash, players };
    this.#own.set(frame, own);
    for (const f of this.#own.keys()) if (this.#own.size > KEEP_OWN_FOR_RELAYED) this.#own.delete(f);
    for (const [peer, theirs] of this.#early.get(frame) ?? []) this.#judgeRelayed(frame, own, peer, theirs);
    this.#early.delete(frame);
  }

  /** Forget the relayed hashes and the divergences of a game we left. */
  clearRelayed(): void {
    this.#own.clear();
    this.#early.clear();
    this.#apart.clear();
  }

  /** `peer` left the game: a later admission of it starts from our state, so a difference then is a new divergence. */
  forgetPeer(peer: PeerId): void {
    this.#apart.delete(peer);
  }

  /**
   * Raise `desync` once per divergence: for a frame where a member's hash differs from ours
   * while it was not apart from us already. A member stays apart until a hashed frame later
   * than the last one it differed at agrees with ours (verdicts may come out of frame order).
   */
  judge(verdicts: Array<HashVerdict | undefined>): void {
    for (const v of verdicts) {
      if (v?.skipped) this.c.log(`hash of frame ${v.frame} from ${v.skipped.join(', ')} not judged: stepped with other players than ours (a drop it had not applied yet)`);
      if (!v) continue;
      const ours = v.hashes[this.c.selfId];
      let diverged = false;
      for (const [peer, hash] of Object.entries(v.hashes)) {
        if (peer === this.c.selfId) continue;
        const apartAt = this.#apart.get(peer);
        if (hash === ours) {
          if (apartAt !== undefined && v.frame > apartAt) this.#apart.delete(peer);
          continue;
        }
        if (apartAt === undefined) diverged = true;
        this.#apart.set(peer, Math.max(apartAt ?? v.frame, v.frame));
      }
      if (v.equal || !diverged) continue;
      this.c.desyncs++;
      const peers = Object.keys(v.hashes);
      this.c.events.emit('desync', {
        frame: v.frame,
        hashes: v.hashes,
        dump: async () => Object.fromEntries(await Promise.all(peers.map(async (p) => [p, await this.requestState(p, v.frame)] as const))),
      });
    }
  }
}
