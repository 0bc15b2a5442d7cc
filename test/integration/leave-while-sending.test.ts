/**
 * Leaving while the other side is still sending, over @roamhq/wrtc: the leaver says
 * goodbye and waits for the remote to close first (MeshOptions.farewellTimeoutMs). When
 * the leaver closed first, the remote's WebRTC stack ended the channel on its own thread
 * while the remote was inside a send, and @roamhq/wrtc crashed that process with SIGSEGV
 * (seen in CI; README, "WebRTC in Node"). The peers run in a child process so such a
 * crash fails this test instead of the runner.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MESH_DEFAULTS } from '../../src/mesh/mesh-options.js';
import { spawnNode } from '../support/node-process.js';

const ROUNDS = 60;

describe('leaving while the other peer sends (real WebRTC, wrtc)', () => {
  it(`${ROUNDS} rounds: B leaves while A floods it; A sees a goodbye each time, A closes first, nothing crashes`, async () => {
    const script = resolve(import.meta.dirname, 'leave-while-sending-peer.ts');
    const child = spawnNode(['--import', 'tsx', script], { env: { ...process.env, ROUNDS: String(ROUNDS) } });
    const code = await child.exited;
    expect(code, `exit ${code} (null: killed by ${child.child.signalCode}); stderr: ${child.stderr()}`).toBe(0);
    const result = JSON.parse(child.stdout().trim().split('\n').pop()!) as { leftReasons: Record<string, number>; sent: number; leaveMs: number[] };
    console.log(`leave while sending: ${result.sent} messages sent, leave() took ${Math.min(...result.leaveMs)}-${Math.max(...result.leaveMs)} ms`);
    // Every departure was a goodbye (not a timeout or a failure)...
    expect(result.leftReasons).toEqual({ left: ROUNDS });
    expect(result.sent).toBeGreaterThan(ROUNDS * 100);
    // ...and every leave() ended because A closed the connection, not by the farewell timeout.
    expect(result.leaveMs).toHaveLength(ROUNDS);
    for (const ms of result.leaveMs) expect(ms).toBeLessThan(MESH_DEFAULTS.farewellTimeoutMs);
  }, 120_000);
});
