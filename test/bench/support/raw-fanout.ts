/**
 * The floor under any sync layer's edit latency on this machine: N processes in a full
 * mesh of plain data channels (see `raw-fanout-peer.ts`); one sends a 40-byte message on
 * each of its N-1 channels; time until the last process has it. Same processes, same
 * engine, same sampling as the Yjs latency case, minus simple-peer, framing and Yjs.
 */
import { resolve } from 'node:path';
import { forkIpcChild, type ChildEvent, type IpcChild } from '../../support/ipc-child.js';

const script = resolve(import.meta.dirname, 'raw-fanout-peer.ts');
/** A pair opens in well under a second; one that has not in this long never will (the caller starts over). */
const OPEN_TIMEOUT_MS = 15_000;

/**
 * p50 and p99 (ms) of the time until all N-1 others have one message from one sender
 * (senders rotate); `withYjs`: the message is a Y.Map edit's update, applied by each.
 */
export async function rawFanout(engine: 'wrtc' | 'node-datachannel', n: number, samples: number, withYjs = false): Promise<{ p50: number; p99: number }> {
  const peers: Array<IpcChild<ChildEvent>> = [];
  try {
    for (let i = 0; i < n; i++) peers.push(forkIpcChild(`raw-${engine}-${i}`, script, { WEBRTC: engine, YJS: withYjs ? '1' : '0' }, 60_000));
    peers.forEach((p, i) =>
      // Signals between processes: the child's `process.send` arrives here as an event.
      setImmediate(function relay(this: void, from = 0) {
        void p.waitFor((e) => e.event === 'signal', 'signal', 120_000, from).then(
          (e) => {
            peers[e.to as number]!.send({ cmd: 'signal', from: i, kind: e.kind, data: e.data });
            relay(p.events.indexOf(e) + 1);
          },
          () => {},
        );
      }),
    );
    // One pair at a time (the Yjs peers also start one after another): libdatachannel
    // left a pair unconnected now and then when one process offered to all at once.
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        peers[i]!.send({ cmd: 'offer-to', to: j });
        await waitCount(peers[i]!, 'open', j - i, OPEN_TIMEOUT_MS);
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    const times: number[] = [];
    for (let s = 0; s < samples; s++) {
      const from = peers[s % n]!;
      const marks = peers.map((p) => p.events.filter((e) => e.event === 'got').length);
      const fired = await from.request({ cmd: 'fire' }, 'fired');
      const gots = await Promise.all(
        peers.map((p, i) => (p === from ? undefined : waitCount(p, 'got', marks[i]! + 1).then(() => p.events.filter((e) => e.event === 'got').at(-1)!.at as number))),
      );
      times.push(Math.max(...gots.filter((g): g is number => g !== undefined)) - (fired.at as number));
      await new Promise((r) => setTimeout(r, 20));
    }
    const sorted = times.sort((a, b) => a - b);
    return { p50: sorted[Math.floor(sorted.length / 2)]!, p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! };
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
}

/** Until `p` has reported `count` events named `event`. */
async function waitCount(p: IpcChild<ChildEvent>, event: string, count: number, timeoutMs = 120_000): Promise<void> {
  // Checked and armed in one synchronous step, so no event falls between the two.
  while (p.events.filter((e) => e.event === event).length < count) {
    await p.waitFor((e) => e.event === event, `${count} × ${event}`, timeoutMs, p.events.length);
  }
}
