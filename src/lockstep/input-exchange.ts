/**
 * Inputs on the unreliable channel: sample this peer's input for `frame + delay`, send
 * each receiver every input it has not acknowledged (with our ack of its inputs), and
 * store what arrives. The channel is named after the session's generation.
 */
import type { PeerId } from '../mesh/types.js';
import { MeshpartyError } from '../util/errors.js';
import type { SessionCore } from './session-core.js';
import { decodeInputPacket, encodeInputPacket, inputChannelName, Kind, MAX_INPUTS_PER_PACKET, resolveInputPacket } from './wire.js';

/**
 * A sender keeps its own inputs back to the lowest frame a receiver still needs, but no
 * further than this many frames (a minute at 60 Hz): a receiver behind by more (a spectator
 * whose link carries nothing, or whose tab was suspended) stops being sent inputs, so
 * memory stays bounded. It is told so (`cutOff`), and is admitted again with a snapshot.
 *
 * @example
 * ```ts
 * // The sender's side, in prune(): past this, the receiver is cut off.
 * const cutOff = acked < myNext - MAX_RESEND_BACKLOG;
 * ```
 */
export const MAX_RESEND_BACKLOG = 3600;

export class InputExchange<S, I> {
  constructor(private readonly c: SessionCore<S, I>) {}

  /** Listen on the input channel of generation `gen` (and no longer on any other). */
  useGeneration(gen: number): void {
    this.c.gen = gen;
    this.c.offInput?.();
    const ch = (this.c.in = this.c.room.channel(inputChannelName(this.c.prefix, gen), { reliability: 'unreliable' }));
    this.c.offInput = ch.on('message', ({ from, data }) => this.c.guard(from, () => this.onInput(from, data)));
    this.c.relay.useGeneration(gen);
  }

  produceInputs(): void {
    const mine = this.c.streams.get(this.c.selfId);
    if (!mine || this.c.role !== 'player' || !this.c.sim) return;
    const limit = Math.min(this.c.sim.frame + this.c.delays.current, this.c.proposals.gateFrame() - 1);
    if (this.c.myNext > limit) return;
    // Read only when a frame takes the value: a read while waiting for other players would
    // be replaced by the next one, and an input that latches a key tap would lose the tap.
    if (this.c.opts.input) this.readInput(this.c.opts.input);
    while (this.c.myNext <= limit) mine.put(this.c.myNext++, this.c.localInput);
  }

  /**
   * Take the app's input, or keep the last one when `input()` throws or returns what the
   * game's input cannot encode (a buggy key sampler): a throw here would fail every tick
   * before it sends, and every player would stall on us for good. Logged once per run of failures.
   */
  private readInput(input: () => I): void {
    try {
      this.c.localInput = this.c.game.input.encode(input());
      this.inputFailing = false;
    } catch (err) {
      if (!this.inputFailing) this.c.log(`input() failed, playing the last input until it works: ${(err as Error)?.stack ?? err}`);
      this.inputFailing = true;
    }
  }

  private inputFailing = false;

  sendInputs(): void {
    this.c.relay.tick();
    const mine = this.c.streams.get(this.c.selfId);
    for (const [to, acked] of this.c.receivers) {
      if (!this.c.room.peers.has(to)) continue;
      let first = this.c.myNext;
      let inputs: Uint8Array[] = [];
      if (mine && this.c.role === 'player') {
        // Oldest unacknowledged first: a receiver that missed more than one packet holds
        // catches up a packet's worth per round trip instead of never getting the gap.
        first = Math.max(acked, mine.start);
        inputs = mine.range(first, Math.min(this.c.myNext, first + MAX_INPUTS_PER_PACKET));
      }
      // A receiver without inputs (a spectator) is acknowledged nothing: ack = end costs no byte.
      const ack = this.c.streams.get(to)?.next ?? first + inputs.length;
      const bytes = encodeInputPacket({ ack, first, inputs }, this.c.byteLength);
      this.c.inputBytes += bytes.length;
      this.c.inputPackets++;
      this.c.in?.send(to, bytes).catch(() => {});
    }
  }

  /**
   * Forget inputs everyone has stepped past: our own only below the lowest frame a
   * receiver still needs (within MAX_RESEND_BACKLOG), others' below `frame`. A receiver
   * further behind is cut off and told so: without the inputs we forget it would stall
   * for good, silently; with the notice it goes back to the lobby and is admitted again
   * with a fresh snapshot (one notice per admission: it is no receiver any more).
   */
  prune(frame: number): void {
    let floor = frame;
    for (const [to, acked] of [...this.c.receivers]) {
      // A spectator we have no connection to (it watches through a forwarder) is sent
      // nothing by us: it holds back none of our inputs.
      if (!this.c.room.peers.has(to) && this.c.spectators.has(to)) continue;
      if (acked < this.c.myNext - MAX_RESEND_BACKLOG) {
        this.c.receivers.delete(to);
        this.c.log(`no longer sending inputs to ${to}: it acknowledged nothing past frame ${acked}, more than ${MAX_RESEND_BACKLOG} frames behind`);
        const since = this.c.since.get(to);
        if (since !== undefined) this.c.sendCtl(to, { kind: Kind.cutOff, gen: this.c.gen, since, acked });
        continue;
      }
      floor = Math.min(floor, acked);
    }
    // Others' inputs we forward to a spectator (input-relay.ts) are kept as far back as it asks.
    for (const [p, s] of this.c.streams) s.prune(p === this.c.selfId ? floor : this.c.relay.floor(p, frame));
  }

  onInput(from: PeerId, data: Uint8Array): void {
    if (this.c.status !== 'running' && this.c.status !== 'joining') return;
    const raw = decodeInputPacket(data, this.c.byteLength);
    const s = this.c.streams.get(from);
    // The sender's next frame as we expect it: the first of its inputs we lack, or for a
    // peer without inputs (a spectator) its fixed next frame, join frame + delay.
    const since = this.c.since.get(from);
    const ref = s ? s.next : since !== undefined ? since + this.c.config.delay : undefined;
    if (ref === undefined) return; // not a member (yet)
    const p = resolveInputPacket(raw, ref);
    if (!p) throw new MeshpartyError('bad-message', 'input frames before 0');
    this.c.silent.heard(from);
    if (since !== undefined) this.c.heardIn.set(from, since);
    const acked = this.c.receivers.get(from);
    if (acked !== undefined && p.ack > acked) this.c.receivers.set(from, Math.min(p.ack, this.c.myNext));
    if (!s || from === this.c.selfId) return;
    if (p.inputs.length === 0) return;
    for (const b of p.inputs) this.c.game.input.decode(b); // validate before storing any
    p.inputs.forEach((b, i) => s.put(p.first + i, b));
    const next = p.first + p.inputs.length;
    if (next > (this.c.remoteNext.get(from) ?? -1)) this.c.remoteNext.set(from, next);
    this.c.ticker.packetArrived();
  }
}
