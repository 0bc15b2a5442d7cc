/**
 * What a recording costs while a game runs: the Recorder keeps each frame as a few bytes,
 * not the objects it is handed. Kept as they came (a frame object, its arrays, and each
 * input a Uint8Array with a buffer of its own), a frame cost some 700 bytes a session
 * (measured: two players at 60 Hz), and a game left running for a day held gigabytes.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Recorder, decodeRecording, encodeRecording } from '../../src/lockstep/replay.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Record frames 10..109 of two players; returns weak refs to the buffers of the inputs handed over. */
function record(rec: Recorder): Array<WeakRef<ArrayBuffer>> {
  const handed: Array<WeakRef<ArrayBuffer>> = [];
  for (let f = 10; f < 110; f++) {
    // Each input its own copy, as the input exchange decodes them (wire.ts).
    const inputs = [Uint8Array.of(f & 0xff), Uint8Array.of(1, 2)];
    for (const i of inputs) handed.push(new WeakRef(i.buffer as ArrayBuffer));
    rec.step({ frame: f, inputs, players: ['a', 'b'], joined: f === 50 ? ['c'] : [], left: f === 60 ? ['c'] : [] });
    if (f % 10 === 0) rec.hash(f, 0xfffffff0 + (f % 16));
  }
  return handed;
}

describe('Recorder', () => {
  it('keeps none of the inputs it is handed, and records the same frames', async () => {
    const rec = new Recorder({ game: 'walk', seed: 7, startFrame: 10, players: ['a', 'b'] });
    const handed = record(rec);
    await new Promise((r) => setImmediate(r)); // WeakRefs read in this turn stay alive until it ends
    gc();
    expect(handed.filter((b) => b.deref() !== undefined).length).toBe(0);

    const recording = rec.recording();
    expect(recording.frames.length).toBe(100);
    expect(recording.frames[0]).toEqual({ inputs: [Uint8Array.of(10), Uint8Array.of(1, 2)], joined: [], left: [] });
    expect(recording.frames[40]).toEqual({ inputs: [Uint8Array.of(50), Uint8Array.of(1, 2)], joined: ['c'], left: [] });
    expect(recording.frames[50]!.left).toEqual(['c']);
    expect(recording.hashes.slice(0, 2)).toEqual([[10, 0xfffffffa], [20, 0xfffffff4]]);
    expect(recording.hashes.length).toBe(10);
    expect(decodeRecording(encodeRecording(recording))).toEqual(recording);
    // A recording is a copy: changing it changes nothing recorded.
    recording.frames[0]!.inputs[0]![0] = 99;
    expect(rec.recording().frames[0]!.inputs[0]).toEqual(Uint8Array.of(10));
  });
});
