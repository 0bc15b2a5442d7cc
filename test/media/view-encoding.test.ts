/**
 * The pieces of view sizes on their own, on a fake clock: the encoding chosen for a view
 * (view-encoding.ts), one sender's changes applied at most every 250 ms with fresh
 * parameters each time (sender-encoding.ts), and the receiver's views sent at most every
 * 250 ms per peer, and never to a peer that did not say it takes them (view-hints.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MediaMessage } from '../../src/media/media-wire.js';
import { SenderEncoding } from '../../src/media/sender-encoding.js';
import { encodingForView, fullEncoding } from '../../src/media/view-encoding.js';
import { ViewHints } from '../../src/media/view-hints.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

const camera = { width: 640, height: 480 };

describe('encodingForView', () => {
  it('scales to the view in steps of √2, the bitrate by pixel count under the cap; 0 pauses; unknown sizes send whole', () => {
    expect(encodingForView(camera, undefined, 500_000)).toEqual(fullEncoding(500_000));
    expect(encodingForView(camera, { width: 640, height: 480 }, undefined)).toEqual(fullEncoding(undefined));
    expect(encodingForView(camera, { width: 1920, height: 1080 }, undefined)).toEqual(fullEncoding(undefined));
    expect(encodingForView(camera, { width: 160, height: 120 }, 800_000)).toEqual({ active: true, scaleResolutionDownBy: 4, maxBitrate: 50_000 });
    expect(encodingForView(camera, { width: 320, height: 240 }, 800_000)).toEqual({ active: true, scaleResolutionDownBy: 2, maxBitrate: 200_000 });
    // No cap: a share of a full-size camera's 2.5 Mbit/s.
    expect(encodingForView(camera, { width: 320, height: 240 }, undefined)).toEqual({ active: true, scaleResolutionDownBy: 2, maxBitrate: 625_000 });
    // A view that needs 1/3.8 of each side gets 1/2.83: never fewer pixels than shown.
    expect(encodingForView(camera, { width: 168, height: 126 }, undefined).scaleResolutionDownBy).toBe(2.828);
    // A few pixels more or less: the same encoding (no setParameters).
    expect(encodingForView(camera, { width: 170, height: 128 }, undefined)).toEqual(encodingForView(camera, { width: 168, height: 126 }, undefined));
    // A tile that is wide crops (object-fit: cover): the wider side decides.
    expect(encodingForView(camera, { width: 320, height: 60 }, undefined).scaleResolutionDownBy).toBe(2);
    // Tiny: at least 32 px on the short side, at least 50 kbit/s.
    expect(encodingForView(camera, { width: 2, height: 2 }, 100_000)).toEqual({ active: true, scaleResolutionDownBy: 15, maxBitrate: 50_000 });
    expect(encodingForView(camera, { width: 0, height: 120 }, 500_000)).toEqual({ active: false, scaleResolutionDownBy: 1, maxBitrate: 500_000 });
    expect(encodingForView({}, { width: 160, height: 120 }, 500_000)).toEqual(fullEncoding(500_000));
  });
});

describe('SenderEncoding', () => {
  it('applies 60 changes in a second at most every 250 ms, each from fresh parameters, ending at the last', async () => {
    const set: RTCRtpEncodingParameters[] = [];
    let reads = 0;
    const sender = {
      getParameters: () => ({ transactionId: String(++reads), encodings: [{ active: true, maxBitrate: 800_000 }] }) as unknown as RTCRtpSendParameters,
      setParameters: async (p: RTCRtpSendParameters) => void set.push({ ...p.encodings[0], rid: (p as { transactionId: string }).transactionId }),
    };
    const tuner = new SenderEncoding(sender, fullEncoding(800_000), () => {}, 250, () => Date.now());
    for (let i = 0; i < 60; i++) {
      // A tile flickering between two sizes: every one a change.
      tuner.set(encodingForView(camera, i % 2 ? { width: 160, height: 120 } : { width: 320, height: 240 }, 800_000));
      await vi.advanceTimersByTimeAsync(1000 / 60);
    }
    await vi.advanceTimersByTimeAsync(300);
    expect(set.length).toBeLessThanOrEqual(5);
    expect(set.at(-1)).toMatchObject({ active: true, scaleResolutionDownBy: 4 });
    // Each set used the parameters read just before it, never ones kept across an await.
    expect(set.map((e) => e.rid)).toEqual(set.map((_, i) => String(i + 1)));
  });

  it('a refused change is reported and not retried until the wanted encoding changes; close stops it', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const sender = {
      getParameters: () => ({ transactionId: 't', encodings: [{}] }) as unknown as RTCRtpSendParameters,
      setParameters: async () => {
        calls++;
        throw new DOMException('', 'InvalidStateError');
      },
    };
    const tuner = new SenderEncoding(sender, fullEncoding(undefined), (e) => errors.push(e), 250, () => Date.now());
    tuner.set({ active: false, scaleResolutionDownBy: 1, maxBitrate: undefined });
    await vi.advanceTimersByTimeAsync(1000);
    expect([calls, errors.length]).toEqual([1, 1]);
    tuner.close();
    tuner.set(fullEncoding(undefined));
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(1);
  });
});

describe('SenderEncoding closed', () => {
  it('closed while a change is in flight, it leaves no timer behind (a Node process exits)', async () => {
    let finish = () => {};
    const sender = {
      getParameters: () => ({ transactionId: 't', encodings: [{}] }) as unknown as RTCRtpSendParameters,
      setParameters: () => new Promise<void>((resolve) => (finish = resolve)),
    };
    const tuner = new SenderEncoding(sender, fullEncoding(undefined), () => {}, 250, () => Date.now());
    tuner.set({ active: false, scaleResolutionDownBy: 1, maxBitrate: undefined });
    // Wanted while the first is in flight: due once it settles.
    tuner.set({ active: true, scaleResolutionDownBy: 2, maxBitrate: undefined });
    tuner.close();
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('ViewHints', () => {
  it('sends a peer its sizes only once its streams said views, at most every 250 ms, the last always', async () => {
    const sent: string[] = [];
    const hints = new ViewHints((peer, m: MediaMessage) => void (m.t === 'view' && sent.push(`${peer} ${m.stream} ${m.width}x${m.height}`)), 250, () => Date.now());
    hints.set('old', 's1', { width: 100, height: 75 });
    hints.accepts('old', false); // an older meshparty: it would count `view` as a bad message
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual([]);
    hints.set('new', 's2', { width: 100, height: 75 });
    hints.accepts('new', true);
    expect(sent).toEqual(['new s2 100x75']);
    for (let i = 1; i <= 30; i++) {
      hints.set('new', 's2', { width: 100 + i, height: 75 });
      await vi.advanceTimersByTimeAsync(1000 / 60);
    }
    await vi.advanceTimersByTimeAsync(300);
    expect(sent.length).toBeLessThanOrEqual(1 + 3);
    expect(sent.at(-1)).toBe('new s2 130x75');
    // The same size again sends nothing; a stream dropped is sent again once set again.
    hints.set('new', 's2', { width: 130, height: 75 });
    await vi.advanceTimersByTimeAsync(300);
    const before = sent.length;
    hints.dropStream('new', 's2');
    hints.set('new', 's2', { width: 130, height: 75 });
    await vi.advanceTimersByTimeAsync(300);
    expect(sent.length).toBe(before + 1);
    hints.close();
  });
});
