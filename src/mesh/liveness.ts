/**
 * Liveness of one mesh's connections: heartbeats (which also give each peer's RTT) and
 * the timeout for a silent connection, and probing a peer the relay says has left while
 * its connection is still open.
 */
import type { TimerHandle } from '../util/clock.js';
import type { Connection } from './connection.js';
import type { MeshContext, RemotePeer } from './mesh-context.js';
import type { PeerLifecycle } from './peer-lifecycle.js';

/** What liveness offers the rest of the mesh. */
export interface Liveness {
  /** The relay says `r` left, but `conn` is open: ask the peer itself. */
  probeLeaver(r: RemotePeer, conn: Connection): void;
  /**
   * `r` asks for a restart while `conn` is open (it may have restarted with the same id,
   * or the relay replays an old request): restart only if the peer stays silent.
   */
  probeRestart(r: RemotePeer, conn: Connection): void;
  /** Stop the heartbeats and pending probes (the room is closing). */
  stop(): void;
}

/**
 * Start heartbeats for `ctx`'s open connections; silent ones are dropped through `lifecycle`.
 *
 * @example
 * ```ts
 * const liveness = startLiveness(ctx, lifecycle);
 * signaling.on('peer-left', (id) => { const r = ctx.remotes.get(id); if (r?.conn?.isOpen) liveness.probeLeaver(r, r.conn); });
 * ```
 */
export function startLiveness(ctx: MeshContext, lifecycle: PeerLifecycle): Liveness {
  const { clock, opts, remotes } = ctx;
  let lastTick = clock.now();
  let timer: TimerHandle | undefined;
  /** Probe windows still pending, cleared by stop() so none keeps the process alive after leave(). */
  const probes = new Set<TimerHandle>();
  const heartbeat = () => {
    timer = undefined;
    if (ctx.closed) return;
    const now = clock.now();
    // A tick far behind schedule means this process stalled (GC, a busy loop, a suspended
    // tab): frames from peers may be waiting unread, so silence proves nothing this round.
    const stalled = now - lastTick > 2 * opts.heartbeatIntervalMs;
    lastTick = now;
    for (const r of [...remotes.values()]) {
      const conn = r.conn;
      if (!conn?.isOpen) continue;
      if (stalled) conn.lastHeard = Math.max(conn.lastHeard, now - opts.heartbeatIntervalMs);
      if (now - conn.lastHeard > opts.peerTimeoutMs) lifecycle.drop(r, 'timeout', true);
      else conn.heartbeat(opts.heartbeatIntervalMs);
    }
    // A `peer-left` listener of a dropped peer may have left the room meanwhile: stop()
    // has run, and a timer armed now would outlive leave().
    if (!ctx.closed) timer = clock.setTimeout(heartbeat, opts.heartbeatIntervalMs);
  };

  /**
   * Ping `conn`, and `windowMs` later call `settle(heard)`: whether anything came from it
   * since. `gone()` is checked first and ends the probe (calling `onGone`). A check that
   * runs late (this process stalled) and heard nothing gets one more window, since the
   * answer may be waiting unread.
   */
  const pingWindow = (conn: Connection, windowMs: number, gone: () => boolean, settle: (heard: boolean) => void, onGone?: () => void) => {
    const window = (since: number) => {
      conn.ping(since);
      const due = since + windowMs;
      const probe = clock.setTimeout(() => {
        probes.delete(probe);
        if (ctx.closed) return;
        if (gone()) return onGone?.();
        const heard = conn.lastHeard > since;
        if (!heard && clock.now() - due > opts.heartbeatIntervalMs) return window(clock.now());
        settle(heard);
      }, windowMs);
      probes.add(probe);
    };
    window(clock.now());
  };

  /**
   * The relay says `r` left, but its connection is open: the relay may be the one in
   * trouble, so ask the peer itself, one window of `leftProbeMs` at a time, for as long
   * as the relay does not have it back. A window with no frame from it means it is gone.
   * A window that heard something (an answer, or a frame already in flight from a peer
   * that has just died) starts the next one.
   */
  const probeLeaver = (r: RemotePeer, conn: Connection): void =>
    pingWindow(
      conn,
      opts.leftProbeMs,
      () => r.conn !== conn || !conn.isOpen || r.inRoom,
      (heard) => (heard ? probeLeaver(r, conn) : lifecycle.drop(r, 'vanished', true)),
    );

  /** Connections with a restart probe pending (one at a time each). */
  const restartProbes = new WeakSet<Connection>();
  /**
   * A restart request reached us while `conn` is open. A peer that really lost its end
   * (restarted with the same id) no longer answers on it; a request replayed by the
   * relay is answered. One short window (4 RTTs, 200 ms at least, `leftProbeMs` at
   * most), so a restarted peer is reconnected at once; a missed answer only costs the
   * restart that used to happen anyway.
   */
  const probeRestart = (r: RemotePeer, conn: Connection) => {
    if (restartProbes.has(conn)) return;
    restartProbes.add(conn);
    pingWindow(
      conn,
      Math.min(opts.leftProbeMs, Math.max(200, 4 * (r.info.rttMs ?? 50))),
      () => r.conn !== conn || !conn.isOpen,
      (heard) => {
        restartProbes.delete(conn);
        if (heard) return ctx.log.warn('restart request ignored: the peer still answers on its open connection', { peer: r.id });
        lifecycle.drop(r, 'restart-requested', true);
      },
      () => {
        restartProbes.delete(conn);
        // The old connection went away meanwhile, e.g. with a goodbye its previous
        // incarnation sent before dying: that goodbye does not keep the one asking out.
        if (!r.conn && r.inRoom && ctx.remotes.get(r.id) === r) {
          r.left = false;
          lifecycle.consider(r);
        }
      },
    );
  };

  timer = clock.setTimeout(heartbeat, opts.heartbeatIntervalMs);
  return {
    probeLeaver,
    probeRestart,
    stop() {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      for (const probe of probes) clock.clearTimeout(probe);
      probes.clear();
    },
  };
}
