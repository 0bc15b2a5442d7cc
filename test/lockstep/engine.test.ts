import { describe, expect, it } from 'vitest';
import {
  ByteReader, ByteWriter, bitfieldInput, bytesInput, decodeRecording, defineGame, encodeRecording, fnv1a32,
  playReplay, Recorder, rngInt, rngNext, rngSeed, Simulation, syncTest,
} from '../../src/index.js';
import { lightCycles, GRID_W } from '../../demos/game/light-cycles.js';
import { buttons, makeWalkGame, scriptedButtons } from './games.js';

describe('bytes', () => {
  it('round-trips integers, varints, strings and bytes, and rejects truncation and trailing bytes', () => {
    const w = new ByteWriter(2).u8(255).u16(0xbeef).u32(0xdeadbeef).varint(0).varint(300).varint(2 ** 40 + 5).svarint(-7).svarint(9).string('pé').bytes(new Uint8Array([1, 2]));
    const b = w.finish();
    const r = new ByteReader(b);
    expect([r.u8(), r.u16(), r.u32(), r.varint(), r.varint(), r.varint(), r.svarint(), r.svarint(), r.string(), [...r.bytes()]]).toEqual([255, 0xbeef, 0xdeadbeef, 0, 300, 2 ** 40 + 5, -7, 9, 'pé', [1, 2]]);
    r.end();
    expect(() => new ByteReader(b.subarray(0, b.length - 1)).raw(b.length)).toThrow(/truncated/);
    const extra = new ByteReader(new Uint8Array([1, 2]));
    extra.u8();
    expect(() => extra.end()).toThrow(/trailing/);
    expect(() => new ByteWriter().varint(-1)).toThrow();
  });
});

describe('input codecs', () => {
  it('packs named buttons into bits and rejects malformed bytes', () => {
    const c = bitfieldInput(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] as const);
    expect(c.byteLength).toBe(2);
    const v = { ...c.neutral, a: true, h: true, i: true };
    const enc = c.encode(v);
    expect([...enc]).toEqual([0b10000001, 0b1]);
    expect(c.decode(enc)).toEqual(v);
    expect(() => c.decode(new Uint8Array([0, 2]))).toThrow(/unused/);
    expect(() => c.decode(new Uint8Array([0]))).toThrow(/expected 2/);
    expect([...buttons.encode(buttons.neutral)]).toEqual([0]);
    const raw = bytesInput(4);
    expect([...raw.decode(raw.encode(new Uint8Array([1, 2, 3, 4])))]).toEqual([1, 2, 3, 4]);
    expect(() => raw.decode(new Uint8Array(3))).toThrow();
  });
});

describe('rng and hash', () => {
  it('are pure functions of plain numbers', () => {
    let s = rngSeed(42);
    const seq: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [v, n] = rngInt(s, 10);
      seq.push(v);
      s = n;
    }
    let t = rngSeed(42);
    const again = seq.map(() => {
      const [v, n] = rngInt(t, 10);
      t = n;
      return v;
    });
    expect(again).toEqual(seq);
    expect(new Set(seq).size).toBeGreaterThan(1);
    expect(rngNext(1)[0]).not.toBe(rngNext(2)[0]);
    // Published FNV-1a 32 test vectors.
    expect(fnv1a32(new Uint8Array())).toBe(0x811c9dc5);
    expect(fnv1a32(new TextEncoder().encode('a'))).toBe(0xe40c292c);
    expect(fnv1a32(new TextEncoder().encode('foobar'))).toBe(0xbf9cf968);
  });
});

describe('simulation', () => {
  it('steps with join and leave, passes ctx, and refuses a missing input', () => {
    const game = makeWalkGame();
    const sim = Simulation.start(game, 3, ['a', 'b']);
    const n = buttons.encode(buttons.neutral);
    sim.advance(new Map([['a', n], ['b', n]]));
    sim.advance(new Map([['a', n], ['b', n], ['c', n]]), ['c']);
    expect(sim.players).toEqual(['a', 'b', 'c']);
    sim.advance(new Map([['b', n], ['c', n]]), [], ['a']);
    expect(sim.players).toEqual(['b', 'c']);
    expect([...sim.state.pos.keys()]).toEqual(['b', 'c']);
    expect(sim.frame).toBe(3);
    expect(sim.state.frames).toBe(0 + 1 + 2);
    expect(() => sim.advance(new Map([['b', n]]))).toThrow(/no input for c/);
  });
});

describe('sync-test', () => {
  const inputs = (f: number, _p: string, i: number) => scriptedButtons(f, i);

  it('passes a deterministic game', () => {
    expect(syncTest(makeWalkGame(), { frames: 500, players: ['a', 'b', 'c'], inputs })).toMatchObject({ ok: true, frames: 500 });
  });

  it('reports the first frame of a game that reads Math.random', () => {
    const base = makeWalkGame();
    const bad = defineGame({ ...base, hash: undefined, step: (s, i, ctx) => {
      const next = base.step(s, i, ctx);
      if (ctx.frame >= 40) next.frames += Math.floor(Math.random() * 1000) + 1;
      return next;
    } });
    const r = syncTest(bad, { frames: 100, inputs });
    expect(r).toMatchObject({ ok: false, frame: 40, reason: 'step-after-load' });
  });

  it('reports a state the serializer loses', () => {
    const base = makeWalkGame();
    const lossy = defineGame({ ...base, hash: undefined, serialize: (s) => base.serialize({ ...s, frames: 0 }), deserialize: base.deserialize });
    // Hash over a field the serializer drops: the loaded state hashes differently once frames > 0.
    const withHash = defineGame({ ...lossy, hash: (s) => s.frames });
    const r = syncTest(withHash, { frames: 10, inputs });
    expect(r).toMatchObject({ ok: false, frame: 2, reason: 'serialize-roundtrip' });
  });

  it('catches hidden state shared between runs (second run differs)', () => {
    let calls = 0; // module-level-like state the game should not have
    const base = makeWalkGame();
    const leaky = defineGame({ ...base, hash: undefined, init: (seed, players) => ({ ...base.init(seed, players), frames: calls++ }) });
    const r = syncTest(leaky, { frames: 5, inputs });
    expect(r).toMatchObject({ ok: false, frame: 0, reason: 'second-run' });
  });

  it('the light-cycles demo game passes sync-test with 8 players over 3000 frames', () => {
    const players = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const r = syncTest(lightCycles, { frames: 3000, players, seed: 99, inputs });
    expect(r.ok).toBe(true);
  });
});

describe('light cycles rules', () => {
  const n = lightCycles.input.encode(lightCycles.input.neutral);
  it('plays rounds: cycles move, crash into walls, a winner scores, a new round starts; joiners wait', () => {
    const sim = Simulation.start(lightCycles, 5, ['a', 'b']);
    const start = sim.state.cycles.map((c) => [c.x, c.y]);
    for (let i = 0; i < 130; i++) sim.advance(new Map([['a', n], ['b', n]]));
    expect(sim.state.phase).toBe('play');
    expect(sim.state.cycles.map((c) => [c.x, c.y])).not.toEqual(start);
    sim.advance(new Map([['a', n], ['b', n], ['c', n]]), ['c']);
    expect(sim.state.cycles.find((c) => c.id === 'c')).toMatchObject({ waiting: true, alive: false });
    // Going straight, someone hits the arena edge within GRID_W * 4 frames.
    let guard = 0;
    while (sim.state.phase === 'play' && guard++ < GRID_W * 8) sim.advance(new Map([['a', n], ['b', n], ['c', n]]));
    expect(sim.state.phase).toBe('over');
    expect(sim.state.cycles.reduce((t, c) => t + c.score, 0)).toBeLessThanOrEqual(1);
    const round = sim.state.round;
    for (let i = 0; i < 200; i++) sim.advance(new Map([['a', n], ['b', n], ['c', n]]));
    expect(sim.state.round).toBe(round + 1);
    expect(sim.state.cycles.find((c) => c.id === 'c')).toMatchObject({ waiting: false, alive: true });
    sim.advance(new Map([['b', n], ['c', n]]), [], ['a']);
    expect(sim.state.cycles.map((c) => c.id)).toEqual(['b', 'c']);
  });
});

describe('replay', () => {
  it('reproduces every recorded hash, survives encode/decode, and flags a tampered input', () => {
    const game = makeWalkGame();
    const rec = new Recorder({ game: game.name, seed: 11, startFrame: 0, players: ['a', 'b'] });
    const sim = Simulation.start(game, 11, ['a', 'b'], 0, (f) => rec.step(f));
    for (let f = 0; f < 300; f++) {
      const joined = f === 100 ? ['c'] : [];
      const left = f === 200 ? ['a'] : [];
      const ps = sim.playersAfter(joined, left);
      sim.advance(new Map(ps.map((p, i) => [p, buttons.encode(scriptedButtons(f, i))])), joined, left);
      rec.hash(sim.frame, sim.hash());
    }
    const recording = decodeRecording(encodeRecording(rec.recording()));
    const result = playReplay(game, recording);
    expect(result).toMatchObject({ frame: 300, checked: 300, mismatches: [] });
    expect(game.hash(result.state)).toBe(sim.hash());

    const tampered = { ...recording, frames: recording.frames.map((f, i) => (i === 150 ? { ...f, inputs: f.inputs.map(() => buttons.encode({ ...buttons.neutral, fire: true })) } : f)) };
    const bad = playReplay(game, tampered);
    expect(bad.mismatches[0]?.frame).toBe(151);
    expect(() => playReplay(lightCycles, recording)).toThrow(/recording is of walk/);
    expect(() => decodeRecording(new Uint8Array([1, 2, 3]))).toThrow(/cannot decode/);
  });
});
