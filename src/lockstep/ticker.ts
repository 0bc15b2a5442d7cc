/**
 * The fixed tick: time sync (a peer ahead stretches its tick, one behind steps twice),
 * stepping a frame once every active player's input is in, applying joins and drops at
 * their frames, and stopping.
 */
import { byId, type SessionCore } from './session-core.js';
import { Kind } from './wire.js';

export class Ticker<S, I> {
  constructor(private readonly c: SessionCore<S, I>) {}

  running(): void {
    this.c.status = 'running';
    this.c.snapshotMisses = 0; // a snapshot came: the next join's deadline starts short again
    this.c.lobbyWait.reset();
    const sim = this.c.sim!;
    if (!this.hashOrFail(sim.frame)) return; // before started: the game never ran here
    this.c.events.emit('started', {
      frame: sim.frame,
      players: [...sim.players],
      spectators: [...this.c.spectators],
      seed: this.c.config.seed,
      inputDelay: this.c.config.delay,
      tickHz: this.c.config.tickHz,
    });
    this.schedule(true);
  }

  schedule(reset = false): void {
    if (this.c.status === 'stopped') return;
    const frameMs = 1000 / this.c.config.tickHz;
    const now = this.c.clock.now();
    if (this.c.timer !== undefined) this.c.clock.clearTimeout(this.c.timer);
    // A peer ahead of the slowest player stretches its tick a little (time sync).
    const stretch = this.c.advantage > 1 ? Math.min(0.5, 0.1 * (this.c.advantage - 1)) : 0;
    this.c.nextTickAt = reset ? now + frameMs : this.c.nextTickAt + frameMs * (1 + stretch);
    if (now - this.c.nextTickAt > 5 * frameMs) this.c.nextTickAt = now; // was suspended: do not burst
    this.c.timer = this.c.clock.setTimeout(() => this.tick(), Math.max(0, this.c.nextTickAt - now));
  }

  /**
   * A packet came: tick now if our tick is a whole frame overdue. A hidden browser tab
   * runs timers at most once a second, but delivers data-channel messages at once; without
   * this, a player who switches tabs steps a couple of frames a second and every other
   * player stalls on its inputs. With it, a late peer ticks at the pace of the packets of
   * the others (each sends one per tick), so the game goes on at full speed.
   */
  packetArrived(): void {
    if (this.c.status !== 'running' || this.c.timer === undefined) return;
    if (this.c.clock.now() - this.c.nextTickAt < 1000 / this.c.config.tickHz) return;
    this.c.clock.clearTimeout(this.c.timer);
    this.tick();
  }

  /** Hash `frame` if it is a hashed one (game.serialize and game.hash); false when the game's code threw (gameFailed). */
  private hashOrFail(frame: number): boolean {
    if (frame % this.c.config.hashEvery !== 0) return true;
    try {
      this.c.hashing.hashFrame();
      return true;
    } catch (err) {
      this.gameFailed(err, frame);
      return false;
    }
  }

  tick(): void {
    this.c.timer = undefined;
    if (this.c.status === 'stopped') return;
    // A joiner whose snapshot never came goes back to the lobby, where nothing ticks.
    if (this.c.admission.snapshotOverdue()) return;
    try {
      if (this.c.status === 'running') {
        this.c.delays.adapt();
        this.c.advantage = this.estimateAdvantage();
        const steps = this.c.advantage < -2 ? 2 : 1;
        for (let k = 0; k < steps; k++) {
          this.c.inputs.produceInputs();
          if (!this.tryStep()) break;
        }
        if ((this.c.status as SessionCore<S, I>['status']) === 'stopped') return; // the game's code threw (gameFailed)
        this.c.inputs.produceInputs();
        if (++this.c.ticks % 30 === 0) {
          for (const p of this.c.hellos.keys()) this.c.proposals.maybeAdmit(p);
          this.c.silent.check();
        }
      }
      this.c.inputs.sendInputs();
    } catch (err) {
      this.c.log(`tick failed: ${(err as Error).stack ?? err}`);
    }
    this.schedule();
  }

  tryStep(): boolean {
    const sim = this.c.sim!;
    const f = sim.frame;
    // Sorted, so peers that learned of two joins (or drops) in different orders agree.
    const joined = [...(this.c.joinsAt.get(f) ?? [])].sort(byId);
    const left = [...(this.c.dropsAt.get(f) ?? [])].sort(byId);
    const need = sim.playersAfter(joined, left);
    const missing = need.filter((p) => !this.c.streams.get(p)?.has(f));
    if (missing.length) {
      if (this.c.stalledAt !== f) {
        this.c.stalledAt = f;
        this.c.stalls++;
        this.c.delays.stalled(missing);
        this.c.events.emit('stall', { frame: f, waitingOn: missing });
      }
      return false;
    }
    try {
      sim.advance(new Map(need.map((p) => [p, this.c.streams.get(p)!.get(f)!])), joined, left);
    } catch (err) {
      this.gameFailed(err, f);
      return false;
    }
    this.c.delays.stepped();
    this.c.joinsAt.delete(f);
    this.c.dropsAt.delete(f);
    for (const p of joined) {
      this.c.pendingJoins.delete(p);
      this.c.events.emit('player-joined', { peer: p, atFrame: f, role: 'player' });
    }
    for (const p of left) {
      this.c.streams.delete(p);
      this.c.dropped.delete(p);
      this.c.since.delete(p);
      this.c.proposer.delete(p);
      this.c.remoteNext.delete(p);
      this.c.delays.forget(p);
      this.c.hashing.judge(this.c.hashes.forget(p));
      this.c.hashing.forgetPeer(p);
      this.c.departures.forgetPeer(p); // gone from the room too: nothing more to keep about it
      this.c.events.emit('player-left', { peer: p, atFrame: f });
    }
    if (left.length) this.c.admission.flushDeferredJoins();
    if (!this.hashOrFail(sim.frame)) return false;
    if ((sim.frame & 255) === 0) {
      this.c.inputs.prune(sim.frame - 512);
      this.c.hashes.prune(sim.frame - 1200);
    }
    const snap = this.c.snapshotsAt.get(sim.frame);
    if (snap) {
      this.c.snapshotsAt.delete(sim.frame);
      for (const p of snap) this.c.proposals.sendSnapshot(p);
    }
    this.c.events.emit('frame', { frame: sim.frame });
    return true;
  }

  /**
   * The game's own code (step, decode, serialize, hash) threw at `frame`. Retrying would
   * throw again every tick, with no input sent, so every player stalled on us for good with
   * nothing but a log line each tick: leave the game instead (the others drop us, or stop
   * too when the failure is deterministic) and stop with reason `game-error`.
   */
  gameFailed(err: unknown, frame: number): void {
    this.c.log(`the game threw at frame ${frame}: leaving the game: ${(err as Error)?.stack ?? err}`);
    const since = this.c.since.get(this.c.selfId) ?? 0;
    for (const p of this.c.members()) this.c.sendCtl(p, { kind: Kind.leave, gen: this.c.gen, peer: this.c.selfId, since });
    this.stop('game-error');
  }

  estimateAdvantage(): number {
    const sim = this.c.sim!;
    const frameMs = 1000 / this.c.config.tickHz;
    let slowest = Infinity;
    for (const p of sim.players) {
      if (p === this.c.selfId || this.c.leaving.has(p)) continue;
      const next = this.c.remoteNext.get(p);
      if (next === undefined) continue;
      const oneWay = (this.c.room.peers.get(p)?.rttMs ?? 0) / 2 / frameMs;
      // After a tick a player has sampled up to frame + delay, so next = frame + delay + 1
      // (its own delay, which it may adapt: its hashes announce it, input-delay.ts); its packet is
      // one-way latency old, so it is that much further on by now.
      slowest = Math.min(slowest, next - this.c.delays.of(p) - 1 + oneWay);
    }
    return slowest === Infinity ? 0 : sim.frame - slowest;
  }

  stop(reason: string): void {
    if (this.c.status === 'stopped') return;
    this.c.status = 'stopped';
    if (this.c.timer !== undefined) this.c.clock.clearTimeout(this.c.timer);
    if (this.c.helloTimer !== undefined) this.c.clock.clearTimeout(this.c.helloTimer);
    this.c.timer = undefined;
    this.c.helloTimer = undefined;
    this.c.links.clear();
    this.c.relay.clear();
    this.c.control.clear();
    for (const off of this.c.offs) off();
    this.c.offs = [];
    this.c.hashing.cancelRequests();
    this.c.events.emit('stopped', { reason });
  }
}
