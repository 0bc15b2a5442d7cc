/**
 * A peer's `view` (the size it shows one of our streams at) decides how our engine encodes
 * for it, so each is checked like every other media message: a size that is not a whole
 * number of pixels from 0 to 16384, a stream we do not share, or one the peer is not
 * receiving, is dropped with a reason, never reaches setParameters, and is a strike of the
 * room. A view of a stream we stopped a moment ago crossed our `streams`: honest, dropped quietly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMediaMessage, MEDIA_LIMITS, parseMediaMessage } from '../../src/media/media-wire.js';
import { encodingEngine } from './support/encoding-engine.js';
import { shareAndRawPeer } from './support/raw-peer.js';
import { syntheticCamera, until } from './support/wrtc-media.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

const text = new TextEncoder();

describe('bad view sizes from a peer', () => {
  it('are refused with a reason, change no encoding, and are strikes of the room', async () => {
    const recorder = encodingEngine();
    const { a, media, errors, raw } = await shareAndRawPeer(411, cleanups, recorder.engine);
    const strikes: string[] = [];
    a.strike = (peer, reason) => void strikes.push(`${peer}: ${reason}`);
    const camera = syntheticCamera();
    cleanups.push(camera.stop);
    const stopCamera = media.publish(camera.stream, { label: 'camera' });
    const id = camera.stream.id;
    const other = syntheticCamera();
    cleanups.push(other.stop);
    const stopOther = media.publish(other.stream, { label: 'other' });
    // Our streams list tells x it may send views.
    const lists: boolean[] = [];
    raw.on('message', ({ data }) => {
      const parsed = parseMediaMessage(data);
      if (parsed.ok && parsed.message.t === 'streams') lists.push(parsed.message.views === true);
    });
    await until('a connection to x sending the camera', () => lists.length > 0);
    expect(lists.every(Boolean)).toBe(true);
    const send = (fields: Record<string, unknown>) => raw.send('a', text.encode(JSON.stringify({ v: 1, t: 'view', ...fields })));
    const bad: [Record<string, unknown>, string][] = [
      [{ stream: id, width: -1, height: 120 }, 'view: width -1 is not a whole number of pixels from 0 to 16384'],
      [{ stream: id, width: null, height: 120 }, 'view: width null is not a whole number of pixels from 0 to 16384'], // NaN, as JSON sends it
      [{ stream: id, width: 160, height: 1e9 }, 'view: height 1000000000 is not a whole number of pixels from 0 to 16384'],
      [{ stream: id, width: 160.5, height: 120 }, 'view: width 160.5 is not a whole number of pixels from 0 to 16384'],
      [{ stream: id, width: '160', height: 120 }, 'view: width "160" is not a whole number of pixels from 0 to 16384'],
      [{ stream: id, height: 120 }, 'view: width missing is not a whole number of pixels from 0 to 16384'],
      [{ stream: '', width: 160, height: 120 }, 'view: stream is not a stream id'],
      [{ stream: 'x'.repeat(MEDIA_LIMITS.maxNameLength + 1), width: 160, height: 120 }, 'view: stream is not a stream id'],
      [{ stream: 'not-ours', width: 160, height: 120 }, 'view: not a stream shared here'],
    ];
    for (const [fields] of bad) await send(fields);
    await until('all refused', () => errors.length === bad.length);
    expect(errors.map((e) => [e.code, e.detail?.peer, e.detail?.reason])).toEqual(bad.map(([, reason]) => ['bad-message', 'x', reason]));
    expect(strikes).toEqual(bad.map(([, reason]) => `x: media: ${reason}`));
    // A good one is taken (x shows the 640×480 camera at 160×120: a scale of 4).
    await send({ stream: id, width: 160, height: 120 });
    await until('the good view applied', () => recorder.calls.length === 1);
    expect(recorder.calls[0]!.encoding).toMatchObject({ active: true, scaleResolutionDownBy: 4 });
    // A stream we stopped a moment ago: its view crossed our list, so it is dropped, no error.
    stopOther();
    await send({ stream: other.stream.id, width: 40, height: 30 });
    // x says bye (its share ended): its views are of streams it no longer receives.
    await raw.send('a', encodeMediaMessage({ v: 1, t: 'bye' }));
    await send({ stream: id, width: 80, height: 60 });
    await until('the view after bye refused', () => errors.length === bad.length + 1);
    expect(errors.at(-1)!.detail?.reason).toBe('view: a stream the peer is not receiving');
    expect(recorder.calls).toHaveLength(1);
    // A streams list whose views flag is not true.
    await raw.send('a', text.encode(JSON.stringify({ v: 1, t: 'streams', streams: [], views: 'yes' })));
    await until('the bad flag refused', () => errors.length === bad.length + 2);
    expect(errors.at(-1)!.detail?.reason).toBe('streams: views is not true');
    expect(a.peers.has('x')).toBe(true);
    stopCamera();
  }, 30_000);

  it('past 64 in a row, views are refused; the encoding follows the last one taken, set at most every 250 ms', async () => {
    const recorder = encodingEngine();
    const { media, errors, raw } = await shareAndRawPeer(412, cleanups, recorder.engine);
    const camera = syntheticCamera();
    cleanups.push(camera.stop);
    media.publish(camera.stream, { label: 'camera' }); // connects to x at once
    const view = (i: number) => encodeMediaMessage({ v: 1, t: 'view', stream: camera.stream.id, width: i % 2 ? 160 : 320, height: i % 2 ? 120 : 240 });
    // Sent in one go, they arrive faster than the allowance refills (one each 10 ms).
    const start = performance.now();
    await Promise.all(Array.from({ length: MEDIA_LIMITS.maxViewsInRow + 10 }, (_, i) => raw.send('a', view(i))));
    await until('some refused', () => errors.length > 0);
    const ms = performance.now() - start;
    // (Under the 16 bad messages that would disconnect x.)
    expect(errors.length).toBeLessThanOrEqual(10);
    expect(errors.every((e) => e.detail?.reason === `view: more than ${MEDIA_LIMITS.maxViewsInRow} in a row`)).toBe(true);
    // Dozens of changes taken within ${ms} ms: setParameters once at once, then once per 250 ms.
    expect(recorder.calls.length, `${recorder.calls.length} calls in ${Math.round(ms)} ms`).toBeLessThanOrEqual(Math.ceil(ms / 250) + 1);
    // One more, once the allowance has refilled a little: taken, and applied last.
    await new Promise((r) => setTimeout(r, 50));
    await raw.send('a', encodeMediaMessage({ v: 1, t: 'view', stream: camera.stream.id, width: 80, height: 60 }));
    await until('the last view applied', () => recorder.calls.at(-1)?.encoding.scaleResolutionDownBy === 8, 2000);
    const elapsed = performance.now() - start;
    expect(recorder.calls.length, `${recorder.calls.length} calls in ${Math.round(elapsed)} ms`).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 1);
  }, 30_000);
});
