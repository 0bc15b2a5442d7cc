/**
 * One Yjs peer in its own process for the Yjs WebRTC tests and `test/bench/yjs.bench.ts`: either meshparty's
 * provider over joinRoom, or y-webrtc's WebrtcProvider (which can hold only one provider
 * per room per process, so every peer of both systems gets its own process, alike).
 * Both use @roamhq/wrtc unless WEBRTC=node-datachannel (then node-datachannel through
 * meshparty's adapter, for either system); the engine's RTCDataChannel.send is wrapped here
 * to count the bytes and frames each system actually puts on the wire.
 *
 * Env: MODE (meshparty | y-webrtc), RELAY (ws://...), ROOM, DOC (meshparty document name, default bench),
 * WEBRTC (wrtc | node-datachannel, default wrtc).
 * IPC in:  { cmd: 'mark', k } | { cmd: 'fill', bytes } | { cmd: 'expect', length }
 *        | { cmd: 'replay', path } | { cmd: 'stats' } | { cmd: 'text' } | { cmd: 'hash' } | { cmd: 'exit' }
 *        | { cmd: 'type', seed, cps } | { cmd: 'stop-typing' }
 * IPC out: { event: 'ready' } | { event: 'peers', count } | { event: 'marked', k, at }
 *        | { event: 'seen', k, at } | { event: 'reached', length, at } | { event: 'replayed', at }
 *        | { event: 'stats', bytes, frames, cpuMs } | { event: 'text', value } | { event: 'hash', value, length }
 *        | { event: 'synced', synced } (meshparty) | { event: 'filled', length } | { event: 'typing' }
 *        | { event: 'typed', chars } | { event: 'error', message }
 * Times are `performance.timeOrigin + performance.now()`, comparable across processes.
 * With BENCH_YJS_STAGES set, `marked` also has `done` and `sends` ([began, ended] of each
 * data-channel send inside the edit) and `seen` has `arrived` (see `stages` below).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { nodeWebRtc, parseEngine } from '../../support/node-webrtc.js';
import { createRng } from '../../../src/util/rng.js';

(globalThis as { WebSocket?: unknown }).WebSocket = WebSocket; // y-webrtc's signaling uses the global

const onNodeDatachannel = parseEngine(process.env.WEBRTC) === 'node-datachannel';
const wrtc = await nodeWebRtc(onNodeDatachannel ? 'node-datachannel' : 'wrtc');
// The engine's own RTCDataChannel class, whose send and dispatch are wrapped below.
const DataChannelClass = (onNodeDatachannel ? (await import('node-datachannel/polyfill')).RTCDataChannel : (await import('@roamhq/wrtc')).default.RTCDataChannel) as unknown as { prototype: unknown };

const send = (msg: object): void => {
  if (process.connected) process.send?.(msg);
};
const now = () => performance.timeOrigin + performance.now();

const wire = { bytes: 0, frames: 0 };
/** How long a `seen` report waits before it goes to the bench process (see marks.observe). */
const REPORT_DELAY_MS = 30;
/**
 * BENCH_YJS_STAGES: where a mark's time goes, the same for both systems: when each
 * data-channel send() of the edit began and ended, and when the engine handed this
 * process the last frame before a peer's edit showed up, and how long its synchronous
 * handling took.
 */
const stages = !!process.env.BENCH_YJS_STAGES;
let markSends: Array<[number, number]> | undefined;
let lastArrival: number | undefined;
/** Set by the marks observer while a frame is handled; then that handling's duration (ms) goes here. */
let sawMark = false;
let markHandling: number | undefined;
const frameArrived = () => {
  lastArrival = now();
  sawMark = false;
};
const frameHandled = () => {
  if (sawMark) markHandling = now() - lastArrival!;
};
const dcProto = DataChannelClass.prototype as { send(data: unknown): void; dispatchEvent(e: { type: string }): void };
if (stages && onNodeDatachannel) {
  // adaptNodeDatachannel hands messages to `onmessage` without a dispatchEvent; the
  // polyfill builds a MessageEvent for each one just before, and a microtask queued then
  // runs right after the (synchronous) handling.
  const Base = globalThis.MessageEvent as unknown as new (type: string, init?: MessageEventInit) => Event;
  globalThis.MessageEvent = class extends Base {
    constructor(type: string, init?: MessageEventInit) {
      super(type, init);
      if (type !== 'message') return;
      frameArrived();
      queueMicrotask(frameHandled);
    }
  } as unknown as typeof MessageEvent;
} else if (stages) {
  const originalDispatch = dcProto.dispatchEvent;
  dcProto.dispatchEvent = function (this: unknown, e: { type: string }) {
    if (e.type !== 'message') return originalDispatch.call(this, e);
    frameArrived();
    try {
      return originalDispatch.call(this, e);
    } finally {
      frameHandled();
    }
  };
}
const originalSend = dcProto.send;
dcProto.send = function (this: unknown, data: unknown) {
  wire.frames++;
  wire.bytes += typeof data === 'string' ? Buffer.byteLength(data) : ((data as ArrayBufferView | ArrayBuffer).byteLength ?? 0);
  if (!markSends) return originalSend.call(this, data);
  const began = now();
  try {
    return originalSend.call(this, data);
  } finally {
    markSends.push([began, now()]);
  }
};

type Command =
  | { cmd: 'mark'; k: string }
  | { cmd: 'fill'; bytes: number }
  | { cmd: 'expect'; length: number }
  | { cmd: 'replay'; path: string }
  | { cmd: 'stats' }
  | { cmd: 'text' }
  | { cmd: 'hash' }
  | { cmd: 'type'; seed: number; cps: number }
  | { cmd: 'stop-typing' }
  | { cmd: 'exit' };

async function main(): Promise<void> {
  const { MODE, RELAY, ROOM } = process.env;
  if (!RELAY || !ROOM) throw new Error('RELAY and ROOM are required');
  const doc = new Y.Doc();
  const text = doc.getText('t');
  const marks = doc.getMap<number>('marks');
  let destroy: () => void;

  if (MODE === 'y-webrtc') {
    const { WebrtcProvider } = await import('y-webrtc');
    const provider = new WebrtcProvider(ROOM, doc, { signaling: [RELAY], peerOpts: { wrtc } } as never);
    provider.on('peers', ({ webrtcPeers }: { webrtcPeers: string[] }) => send({ event: 'peers', count: webrtcPeers.length }));
    destroy = () => provider.destroy();
  } else {
    const { joinRoom } = await import('../../../src/index.js');
    const { createYjsProvider } = await import('../../../src/yjs/provider.js');
    // MESH_HEARTBEAT_MS: experiments on the cost of heartbeats in crowded rooms (default: the mesh's).
    const heartbeat = Number(process.env.MESH_HEARTBEAT_MS) || undefined;
    const timing = heartbeat ? { heartbeatIntervalMs: heartbeat, peerTimeoutMs: heartbeat * 4.5 } : {};
    const room = await joinRoom({ relay: RELAY, room: ROOM, wrtc, WebSocket, ...timing } as never);
    const provider = createYjsProvider(room, doc, { name: process.env.DOC ?? 'bench' });
    provider.on('synced', ({ synced }) => send({ event: 'synced', synced }));
    const report = () => send({ event: 'peers', count: room.peers.size });
    room.on('peer-joined', report);
    room.on('peer-left', report);
    destroy = () => {
      provider.destroy();
      void room.leave();
    };
  }

  marks.observe((e) => {
    if (e.transaction.local) return;
    const at = now();
    const arrived = lastArrival;
    sawMark = true;
    // Reported a little later: an IPC write now would wake the bench process while the
    // other peers are still receiving, and that load would be measured as latency.
    setTimeout(() => {
      for (const k of e.keysChanged) send({ event: 'seen', k, at, arrived, handled: markHandling });
    }, REPORT_DELAY_MS);
  });
  let expected = Infinity;
  text.observe(() => {
    if (text.length >= expected) {
      send({ event: 'reached', length: text.length, at: now() });
      expected = Infinity;
    }
  });

  let typist: { stop(): number } | undefined;
  process.on('message', (m: Command) => {
    switch (m.cmd) {
      case 'mark': {
        // The edit's time is taken before the edit: y-webrtc sends inside `set`, so a time
        // taken after it would hide its whole send path (and once came out negative).
        if (stages) markSends = [];
        const at = now();
        marks.set(m.k, 1);
        const done = now();
        // Reported later, like `seen`: an IPC write now would wake the bench process while
        // the peers receive the edit.
        const marked = { event: 'marked', k: m.k, at, ...(markSends && { done, sends: markSends }) };
        setTimeout(() => send(marked), REPORT_DELAY_MS);
        markSends = undefined;
        break;
      }
      case 'fill': {
        // In 64 KiB inserts, so the document is many items like a real one, not one string.
        const chunk = 'x'.repeat(64 * 1024);
        for (let n = 0; n < m.bytes; n += chunk.length) text.insert(text.length, chunk.slice(0, Math.min(chunk.length, m.bytes - n)));
        send({ event: 'filled', length: text.length });
        break;
      }
      case 'expect':
        expected = m.length;
        if (text.length >= expected) {
          send({ event: 'reached', length: text.length, at: now() });
          expected = Infinity;
        }
        break;
      case 'replay':
        void replay(text, m.path).then(() => send({ event: 'replayed', at: now() }));
        break;
      case 'stats':
        send({ event: 'stats', bytes: wire.bytes, frames: wire.frames, cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000 });
        break;
      case 'text':
        send({ event: 'text', value: text.toString() });
        break;
      case 'hash':
        send({ event: 'hash', value: createHash('sha256').update(text.toString()).digest('hex'), length: text.length });
        break;
      case 'type':
        typist?.stop();
        typist = startTyping(text, m.seed, m.cps);
        send({ event: 'typing' });
        break;
      case 'stop-typing':
        send({ event: 'typed', chars: typist?.stop() ?? 0 });
        typist = undefined;
        break;
      case 'exit':
        typist?.stop();
        destroy();
        setTimeout(() => process.exit(0), 50);
        break;
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ event: 'ready' });
}

/** The same seed gives the same sequence in every process (mulberry32). */
function seeded(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

/**
 * A typist: one keystroke (one transaction) every 0.4–1.6 / `cps` s, on average `cps` a
 * second, each keystroke due at a fixed offset from the start so timer lateness does not
 * lower the rate. It types at its own cursor (a relative position, so other peers' edits
 * do not move it), a letter or a space, and one keystroke in 20 is a backspace. The gaps,
 * the characters and the backspaces all come from `seed`, so a typist with the same seed
 * does the same work in either system. `stop()` returns the keystrokes made.
 */
function startTyping(text: Y.Text, seed: number, cps: number): { stop(): number } {
  const rand = seeded(seed);
  const letters = 'etaoinshrdlucmfwypvbgkjqxz';
  let cursor = Y.createRelativePositionFromTypeIndex(text, text.length);
  let keystrokes = 0;
  let due = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const key = () => {
    const at = Y.createAbsolutePositionFromRelativePosition(cursor, text.doc!)?.index ?? text.length;
    const r = rand();
    if (r < 0.05 && at > 0) {
      text.delete(at - 1, 1);
      cursor = Y.createRelativePositionFromTypeIndex(text, at - 1);
    } else {
      text.insert(at, r < 0.2 ? ' ' : letters[Math.floor(rand() * letters.length)]!);
      cursor = Y.createRelativePositionFromTypeIndex(text, at + 1);
    }
    keystrokes++;
    next();
  };
  const next = () => {
    due += ((0.4 + 1.2 * rand()) * 1000) / cps;
    timer = setTimeout(key, Math.max(0, due - performance.now()));
  };
  next();
  return {
    stop: () => {
      clearTimeout(timer);
      return keystrokes;
    },
  };
}

/** Replay the editing trace (Joseph Gentle, editing-traces, CC BY 4.0): one transaction per event-loop turn, as typing would arrive. */
async function replay(text: Y.Text, path: string): Promise<void> {
  const trace = JSON.parse(gunzipSync(readFileSync(path)).toString()) as { startContent: string; txns: Array<{ patches: Array<[number, number, string]> }> };
  const doc = text.doc!;
  if (trace.startContent) text.insert(0, trace.startContent);
  for (let i = 0; i < trace.txns.length; i++) {
    doc.transact(() => {
      for (const [pos, del, ins] of trace.txns[i]!.patches) {
        if (del > 0) text.delete(pos, del);
        if (ins) text.insert(pos, ins);
      }
    });
    if (i % 10 === 9) await new Promise((r) => setImmediate(r));
  }
}

main().catch((err: unknown) => {
  send({ event: 'error', message: String(err instanceof Error ? err.stack : err) });
  process.exit(1);
});
