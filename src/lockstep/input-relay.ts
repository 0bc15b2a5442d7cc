/**
 * Forwarded inputs: a spectator with no connection to a player P (a NAT pair that cannot
 * get through, no TURN) gets P's inputs from a player it is connected to, its forwarder
 * for P. The spectator picks it by one rule: the lowest-id player, not leaving or
 * dropped, that it has a connection to and whose latest hello lists a connection to P.
 * It picks again every tick, so a forwarder that leaves, is dropped, or loses its link
 * to P (its hello on that says so) is replaced by the next one (with none, it waits a grace
 * period and goes back to the lobby, spectator-links.ts). Each tick it sends each
 * forwarder a `want` naming the players it asks of it and the first frame of each it
 * lacks (that is also its acknowledgement); the forwarder sends back every input of
 * those players from that frame on that it holds (255 a packet, oldest first: the
 * redundancy of direct inputs), exactly as it stepped or received them, for as long as
 * the wants keep coming. The spectator takes P's forwarded inputs only from its current
 * forwarder for P. Once forwarded in an admission, P stays forwarded (P may have
 * forgotten the spectator as a receiver when their link closed).
 *
 * Trust: a forwarder could alter what it forwards. Only the spectator's view suffers (it
 * steps with inputs no player sent, and would see the game wrong); players never take a
 * forwarded input, so nothing a forwarder does reaches the game. A spectator with no
 * connection to the coordinator (the lowest-id player) takes control (its admission,
 * joins, drops) from its forwarder for the coordinator as well (control-relay.ts).
 * PROTOCOL.md, "Forwarded inputs".
 */
import type { Channel, PeerId } from '../mesh/types.js';
import { MeshpartyError } from '../util/errors.js';
import { MAX_RESEND_BACKLOG } from './input-exchange.js';
import { byId, type SessionCore } from './session-core.js';
import { decodeInputPacket, decodeRelay, encodeInputPacket, encodeRelay, Kind, MAX_INPUTS_PER_PACKET, relayChannelName, resolveInputPacket } from './wire.js';

/**
 * A forwarder keeps forwarding a player's inputs to a spectator this long after the
 * spectator's last `want` for them (it sends one each tick): past that, the spectator
 * picked another forwarder, left, or lost its link to us.
 *
 * @example
 * ```ts
 * const fresh = now - want.at < RELAY_WANT_TTL_MS;
 * ```
 */
export const RELAY_WANT_TTL_MS = 1000;
/**
 * A player keeps this many frames of every other player's inputs before its own frame, wanted
 * or not: a spectator that picks it as forwarder (its forwarder left, or its link did) is
 * behind it, and gets what it lacks from here.
 */
export const RELAY_KEEP_FRAMES = 240;

export class InputRelay<S, I> {
  #ch: Channel | undefined;
  #off: (() => void) | undefined;
  /** Forwarder: what each spectator asked of us, by player (first frame it lacks, clock time asked). */
  readonly #wants = new Map<PeerId, Map<PeerId, { next: number; at: number }>>();
  /** Forwarder: admissions (spectator, since) we told we no longer hold what they ask for (once each). */
  readonly #cut = new Set<string>();
  /** Spectator: the forwarder we take each player's inputs from (players we have no connection to). */
  readonly #forwarder = new Map<PeerId, PeerId>();
  /** Spectator: players whose inputs we have had forwarded in this admission (they stay forwarded). */
  readonly #forwarded = new Set<PeerId>();

  constructor(private readonly c: SessionCore<S, I>) {}

  /** Listen on the relay channel of generation `gen` (and no longer on any other). */
  useGeneration(gen: number): void {
    this.clear();
    const ch = (this.#ch = this.c.room.channel(relayChannelName(this.c.prefix, gen), { reliability: 'unreliable' }));
    this.#off = ch.on('message', ({ from, data }) => this.c.guard(from, () => this.#onMessage(from, data)));
  }

  /** Forget everything of this admission (back to the lobby, or another game). */
  clear(): void {
    this.#off?.();
    this.#off = undefined;
    this.#ch = undefined;
    this.#wants.clear();
    this.#cut.clear();
    this.#forwarder.clear();
    this.#forwarded.clear();
  }

  /** Spectator: the forwarder of `player`'s inputs, if we take them forwarded. */
  forwarderOf(player: PeerId): PeerId | undefined {
    return this.#forwarder.get(player);
  }

  /**
   * Spectator: the player we take control from (control-relay.ts), our forwarder for the
   * coordinator, when we have no connection to the coordinator (or took its inputs
   * forwarded); undefined when it reaches us directly, or nobody forwards for it.
   */
  controlForwarder(): PeerId | undefined {
    const coord = this.c.coordinator();
    if (!coord || coord === this.c.selfId || (this.c.room.peers.has(coord) && !this.#forwarded.has(coord))) return undefined;
    return this.#forwarder.get(coord) ?? this.#pick(coord);
  }

  /** Spectator: the players forwarding inputs to us. */
  forwarders(): PeerId[] {
    return [...new Set(this.#forwarder.values())];
  }

  /** Forwarder: the spectators asking us for `player`'s inputs now. */
  wantersOf(player: PeerId): PeerId[] {
    const now = this.c.clock.now();
    return [...this.#wants].filter(([, w]) => now - (w.get(player)?.at ?? -Infinity) < RELAY_WANT_TTL_MS).map(([to]) => to);
  }

  /** Forwarder: the players whose inputs `spectator` asks us for now. */
  wantedBy(spectator: PeerId): PeerId[] {
    const now = this.c.clock.now();
    return [...(this.#wants.get(spectator) ?? [])].filter(([, w]) => now - w.at < RELAY_WANT_TTL_MS).map(([p]) => p);
  }

  /** Spectator: whether `player`'s inputs came to us forwarded in this admission (then a reopened link to it is no trouble). */
  forwarded(player: PeerId): boolean {
    return this.#forwarded.has(player);
  }

  /**
   * Each tick. A spectator picks its forwarders and asks them; a forwarder sends every
   * spectator what it asked for. Both within the current admission only.
   */
  tick(): void {
    if (!this.#ch || (this.c.status !== 'running' && this.c.status !== 'joining')) return;
    if (this.c.role === 'spectator') {
      this.c.links.checkCoordinator();
      this.#ask();
    }
    else this.#forward();
  }

  /**
   * The lowest frame of `player`'s inputs a spectator asked us for (within
   * MAX_RESEND_BACKLOG of `frame`): we keep its inputs from there, as we keep our own.
   */
  floor(player: PeerId, frame: number): number {
    let floor = frame;
    const now = this.c.clock.now();
    for (const wants of this.#wants.values()) {
      const w = wants.get(player);
      if (w && now - w.at < RELAY_WANT_TTL_MS) floor = Math.min(floor, Math.max(w.next, frame - MAX_RESEND_BACKLOG));
    }
    return Math.min(floor, frame - RELAY_KEEP_FRAMES);
  }

  /** The forwarder for `player` by the rule in the file comment, or undefined if no player we reach reaches it. */
  #pick(player: PeerId): PeerId | undefined {
    const candidates = [...this.c.streams.keys()].filter(
      (q) =>
        q !== player &&
        q !== this.c.selfId &&
        this.c.isPlayer(q) &&
        this.c.room.peers.has(q) &&
        !this.c.leaving.has(q) &&
        !this.c.dropped.has(q) &&
        (this.c.peerLinks.get(q)?.has(player) ?? false),
    );
    return candidates.sort(byId)[0];
  }

  #ask(): void {
    const byForwarder = new Map<PeerId, Array<[PeerId, number]>>();
    for (const [p, s] of this.c.streams) {
      if (p === this.c.selfId) continue;
      // A player we reach sends us its inputs itself (unless it was forwarded already: it
      // may have forgotten us when our link closed).
      if (this.c.room.peers.has(p) && !this.#forwarded.has(p)) {
        this.#forwarder.delete(p);
        continue;
      }
      const q = this.#pick(p);
      const was = this.#forwarder.get(p);
      if (q !== was) this.c.log(q ? `taking ${p}'s inputs forwarded by ${q}${was ? ` (was ${was})` : ''}` : `no player we reach forwards ${p}'s inputs${was ? ` any more (was ${was})` : ''}`);
      if (!q) {
        this.#forwarder.delete(p);
        if (this.c.status === 'running') this.c.links.unforwarded(p);
        continue;
      }
      this.#forwarder.set(p, q);
      this.#forwarded.add(p);
      const list = byForwarder.get(q) ?? [];
      list.push([p, s.next]);
      byForwarder.set(q, list);
    }
    for (const [q, wants] of byForwarder) this.#ch?.send(q, encodeRelay({ type: 'want', wants })).catch(() => {});
  }

  #forward(): void {
    const now = this.c.clock.now();
    const coord = this.c.coordinator();
    const served = new Set<PeerId>();
    for (const [to, wants] of [...this.#wants]) {
      // Only members watching us, over a connection of ours, with fresh wants.
      if (!this.c.spectators.has(to) || !this.c.room.peers.has(to)) {
        this.#wants.delete(to);
        continue;
      }
      for (const [p, w] of [...wants]) if (!this.c.streams.has(p) || now - w.at >= RELAY_WANT_TTL_MS) wants.delete(p);
      if (wants.size === 0) this.#wants.delete(to);
      // Asking us for the coordinator's inputs, it takes control from us (control-relay.ts).
      else if (coord !== undefined && coord !== this.c.selfId && wants.has(coord)) served.add(to);
    }
    this.c.control.serve(served);
    for (const [to, wants] of this.#wants) {
      // No input at or past a join frame it has not acknowledged: it would step that frame without the joiner.
      const gate = this.c.control.gate(to);
      for (const [p, w] of wants) {
        const s = this.c.streams.get(p)!;
        const first = Math.max(w.next, s.start);
        const inputs = s.range(first, Math.min(s.next, first + MAX_INPUTS_PER_PACKET, gate));
        if (inputs.length === 0) {
          // We stepped and forgot the inputs it asks for (it picked us while further behind
          // than we keep, RELAY_KEEP_FRAMES): nobody will send them, and it would wait for
          // good. Told so, it goes back to the lobby, as a receiver its player cut off does.
          if (first < s.next && first < gate && !s.get(first)) this.#cutOff(to, p, first);
          continue;
        }
        const packet = encodeInputPacket({ ack: first + inputs.length, first, inputs }, this.c.byteLength);
        const bytes = encodeRelay({ type: 'inputs', player: p, packet });
        this.c.inputBytes += bytes.length;
        this.c.inputPackets++;
        this.#ch?.send(to, bytes).catch(() => {});
      }
    }
  }

  #cutOff(to: PeerId, player: PeerId, first: number): void {
    const since = this.c.since.get(to);
    this.#wants.delete(to);
    if (since === undefined || this.#cut.has(`${to}\u0000${since}`)) return;
    this.#cut.add(`${to}\u0000${since}`);
    for (const k of this.#cut) if (this.#cut.size > 64) this.#cut.delete(k);
    this.c.log(`no longer forwarding to ${to}: it asks for ${player}'s inputs from frame ${first}, which we no longer hold`);
    this.c.sendCtl(to, { kind: Kind.cutOff, gen: this.c.gen, since, acked: first });
  }

  #onMessage(from: PeerId, data: Uint8Array): void {
    if (this.c.status !== 'running' && this.c.status !== 'joining') return;
    const m = decodeRelay(data);
    if (m.type === 'want') {
      // Only a player forwards, and only to a spectator of this game.
      if (this.c.role !== 'player' || !this.c.spectators.has(from)) return;
      const now = this.c.clock.now();
      const wants = this.#wants.get(from) ?? new Map<PeerId, { next: number; at: number }>();
      for (const [p, next] of m.wants) {
        if (p === from || !this.c.streams.has(p)) continue;
        // Unordered: an older want may arrive after a newer one; its frame never goes back.
        wants.set(p, { next: Math.max(next, wants.get(p)?.next ?? 0), at: now });
      }
      if (wants.size) this.#wants.set(from, wants);
      return;
    }
    // Forwarded inputs of a player: taken only from the forwarder we picked for it.
    const s = this.c.streams.get(m.player);
    if (this.c.role !== 'spectator' || !s || this.#forwarder.get(m.player) !== from) {
      if (s && this.c.role === 'spectator') this.c.log(`ignoring ${m.player}'s inputs forwarded by ${from}, not our forwarder for it (${this.#forwarder.get(m.player) ?? 'none'})`);
      return;
    }
    const p = resolveInputPacket(decodeInputPacket(m.packet, this.c.byteLength), s.next);
    if (!p) throw new MeshpartyError('bad-message', 'forwarded input frames before 0');
    for (const b of p.inputs) this.c.game.input.decode(b); // validate before storing any
    p.inputs.forEach((b, i) => s.put(p.first + i, b));
    this.c.silent.heard(m.player); // the player plays: its inputs come
    const next = p.first + p.inputs.length;
    if (next > (this.c.remoteNext.get(m.player) ?? -1)) this.c.remoteNext.set(m.player, next);
    if (p.inputs.length) this.c.ticker.packetArrived(); // (a hidden tab's timers lag: see Ticker)
  }
}
