/**
 * Reading a Recorder's frames every frame is cheap: a read decodes only the frames
 * recorded since the previous read. It used to decode the whole recording at each read,
 * O(frames) a read and O(frames²) over a game read by its UI every frame.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ByteReader } from '../../src/lockstep/bytes.js';
import { Recorder, type RecordedFrame } from '../../src/lockstep/replay.js';

/** Frame `f` of two players (a third joins at 5 and leaves at 9). */
function frame(f: number): RecordedFrame & { frame: number; players: string[] } {
  const players = f >= 5 && f < 9 ? ['a', 'b', 'c'] : ['a', 'b'];
  return { frame: f, players, inputs: players.map((_, i) => Uint8Array.of(f & 0xff, i)), joined: f === 5 ? ['c'] : [], left: f === 9 ? ['c'] : [] };
}
const plain = ({ inputs, joined, left }: RecordedFrame) => ({ inputs, joined, left });

afterEach(() => vi.restoreAllMocks());

describe('Recorder reads', () => {
  it('reads the same frames and hashes as a full decode, with appends and reads interleaved', () => {
    const rec = new Recorder({ game: 'walk', seed: 1, startFrame: 0, players: ['a', 'b'] });
    const want: RecordedFrame[] = [];
    const hashes: Array<[number, number]> = [];
    // Reads after 0, 1, 2, 0 (a read with nothing new), 3, 5... appends.
    for (const k of [0, 1, 2, 0, 3, 5, 1, 7, 0, 13]) {
      for (let i = 0; i < k; i++) {
        const f = frame(want.length);
        rec.step(f);
        want.push(plain(f));
        if (want.length % 4 === 0) {
          rec.hash(want.length, 0xffffff00 + want.length);
          hashes.push([want.length, 0xffffff00 + want.length]);
        }
      }
      expect(rec.frames.map(plain)).toEqual(want);
      expect(rec.hashes).toEqual(hashes);
      expect(rec.recording().frames).toEqual(want);
      expect(rec.recording().hashes).toEqual(hashes);
    }
  });

  it('decodes only the frames recorded since the previous read', () => {
    const rec = new Recorder({ game: 'walk', seed: 1, startFrame: 0, players: ['a', 'b'] });
    for (let f = 0; f < 100; f++) rec.step(frame(f));
    const first = rec.frames;
    const earlier = [...first];
    // Each recorded input is one length-prefixed bytes() read: count them.
    const inputsRead = vi.spyOn(ByteReader.prototype, 'bytes');
    for (let f = 100; f < 103; f++) rec.step(frame(f));
    const next = rec.frames;
    expect(inputsRead).toHaveBeenCalledTimes(3 * 2); // 3 frames of 2 players, not 103
    expect(next).toBe(first); // the same array, extended
    expect(next.length).toBe(103);
    expect(earlier.every((f, i) => next[i] === f)).toBe(true); // none decoded again
    expect(next[102]!.inputs).toEqual([Uint8Array.of(102, 0), Uint8Array.of(102, 1)]);
    inputsRead.mockClear();
    expect(rec.frames.length).toBe(103);
    expect(inputsRead).not.toHaveBeenCalled(); // nothing new, nothing decoded
  });

  it('keeps a recording true to what was recorded even if a reader changes the frames it read', () => {
    const rec = new Recorder({ game: 'walk', seed: 1, startFrame: 0, players: ['a', 'b'] });
    for (let f = 0; f < 10; f++) rec.step(frame(f));
    (rec.frames[3]!.inputs[0] as Uint8Array)[0] = 99;
    expect(rec.recording().frames[3]!.inputs[0]).toEqual(Uint8Array.of(3, 0));
  });
});
