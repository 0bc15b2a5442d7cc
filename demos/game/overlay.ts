/** The network overlay: tick, input delay, RTT per peer, stalls and desyncs, as text. */
import type { LockstepStats } from '../../src/index.js';

export function formatOverlay(stats: LockstepStats, nameOf: (id: string) => string, lastDesync: number | undefined): string {
  const rtts = Object.entries(stats.rttMs)
    .map(([id, ms]) => `  ${nameOf(id).padEnd(12)} ${ms === undefined ? '?' : `${Math.round(ms)} ms`}`)
    .join('\n');
  return [
    `tick        ${stats.frame} @ ${stats.tickHz} Hz`,
    `input delay ${stats.inputDelay} frames (${Math.round((stats.inputDelay * 1000) / stats.tickHz)} ms)`,
    `advantage   ${stats.frameAdvantage.toFixed(1)} frames`,
    `players     ${stats.players.length}, spectators ${stats.spectators.length}`,
    `stalls      ${stats.stalls}`,
    `desyncs     ${stats.desyncs}${lastDesync !== undefined ? ` (last at frame ${lastDesync})` : ''}`,
    `input sent  ${(stats.inputBytesSent / 1024).toFixed(1)} KiB in ${stats.inputPacketsSent} packets`,
    'RTT',
    rtts || '  (no peers)',
  ].join('\n');
}
