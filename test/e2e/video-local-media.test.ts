/**
 * The video demo's own camera, mic and screen (demos/video/local-media.ts): every way the
 * browser can refuse becomes a problem to show, never a thrown error, and a missing device
 * is worked around (camera alone, mic alone) while a refusal is not asked again.
 */
import { describe, expect, it } from 'vitest';
import { openCamera, openDevice, pickScreen } from '../../demos/video/local-media.js';

const fail = (name: string) => Promise.reject(new DOMException('no', name));
const fakeStream = (kinds: string[]) => ({ kinds }) as unknown as MediaStream;

/** MediaDevices whose getUserMedia answers by what is asked: `has` lists the devices present; `error` the failure's name. */
function devices(o: { has?: ('audio' | 'video')[]; error?: string; screen?: () => Promise<MediaStream> }) {
  const asked: string[] = [];
  const constraints: MediaStreamConstraints[] = [];
  const d = {
    getUserMedia: (c: MediaStreamConstraints) => {
      constraints.push(c);
      const want = (['video', 'audio'] as const).filter((k) => c[k]);
      asked.push(want.join('+'));
      if (o.error) return fail(o.error);
      return want.every((k) => o.has?.includes(k)) ? Promise.resolve(fakeStream(want)) : fail('NotFoundError');
    },
    ...(o.screen ? { getDisplayMedia: o.screen } : {}),
  };
  return { d: d as unknown as MediaDevices, asked, constraints };
}

describe('video demo: local media', () => {
  it('camera and mic when both are there, with modest video (each page sends it to every peer)', async () => {
    const { d, asked, constraints } = devices({ has: ['video', 'audio'] });
    const r = await openCamera(d);
    expect(r.problem).toBeUndefined();
    expect((r.stream as unknown as { kinds: string[] }).kinds).toEqual(['video', 'audio']);
    expect(asked).toEqual(['video+audio']);
    expect(constraints[0]!.video).toMatchObject({ width: { ideal: 640 }, height: { ideal: 480 } });
  });

  it('a missing mic or camera: the other alone, with a problem that says what the others miss', async () => {
    const noMic = devices({ has: ['video'] });
    const r1 = await openCamera(noMic.d);
    expect(r1.problem?.code).toBe('no-microphone');
    expect(r1.problem?.text).toMatch(/see you but do not hear you/);
    expect(noMic.asked).toEqual(['video+audio', 'video']);
    const noCam = devices({ has: ['audio'] });
    const r2 = await openCamera(noCam.d);
    expect(r2.problem?.code).toBe('no-camera');
    expect(noCam.asked).toEqual(['video+audio', 'video', 'audio']);
  });

  it('refused is not asked again; nothing at all, busy, unknown and no mediaDevices are problems, not throws', async () => {
    const refused = devices({ error: 'NotAllowedError' });
    expect(await openCamera(refused.d)).toMatchObject({ stream: null, problem: { code: 'camera-refused' } });
    expect(refused.asked).toEqual(['video+audio']);
    expect(await openCamera(devices({ has: [] }).d)).toMatchObject({ stream: null, problem: { code: 'camera-missing' } });
    expect(await openCamera(devices({ error: 'NotReadableError' }).d)).toMatchObject({ stream: null, problem: { code: 'camera-busy' } });
    expect(await openCamera(devices({ error: 'WeirdError' }).d)).toMatchObject({ stream: null, problem: { code: 'camera-failed' } });
    const throwing = { getUserMedia: () => Promise.reject('not even an Error') } as unknown as MediaDevices;
    expect((await openCamera(throwing)).problem?.text).toMatch(/not even an Error/);
    expect(await openCamera(undefined)).toMatchObject({ stream: null, problem: { code: 'camera-unavailable' } });
  });

  it('screen: a stream, or cancelled / failed / unsupported as a problem', async () => {
    const s = fakeStream(['video']);
    expect(await pickScreen(devices({ screen: () => Promise.resolve(s) }).d)).toEqual({ stream: s });
    expect(await pickScreen(devices({ screen: () => fail('NotAllowedError') }).d)).toMatchObject({ problem: { code: 'screen-refused' } });
    expect(await pickScreen(devices({ screen: () => fail('AbortError') }).d)).toMatchObject({ problem: { code: 'screen-failed' } });
    expect(await pickScreen(devices({}).d)).toMatchObject({ problem: { code: 'screen-unsupported' } });
    expect(await pickScreen(undefined)).toMatchObject({ problem: { code: 'screen-unsupported' } });
  });

  it('switching: the chosen device with the same modest settings; a busy camera (a phone opens one at a time) is tried again once the old one is released', async () => {
    const track = { kind: 'video' } as MediaStreamTrack;
    const asked: MediaStreamConstraints[] = [];
    let released = 0;
    let busy = true;
    const d = {
      getUserMedia: (c: MediaStreamConstraints) => {
        asked.push(c);
        if (busy && released === 0) return fail('NotReadableError');
        return Promise.resolve({ getTracks: () => [track] } as unknown as MediaStream);
      },
    } as unknown as MediaDevices;
    expect(await openDevice(d, 'video', { facingMode: 'environment' }, () => released++)).toEqual({ track });
    expect(released).toBe(1);
    expect(asked).toHaveLength(2);
    expect(asked[0]!.video).toMatchObject({ facingMode: { exact: 'environment' }, width: { ideal: 640 } });

    busy = false;
    released = 0;
    asked.length = 0;
    expect(await openDevice(d, 'audio', { deviceId: 'mic-2' }, () => released++)).toEqual({ track });
    expect([released, asked.length]).toEqual([0, 1]);
    expect(asked[0]!.audio).toMatchObject({ deviceId: { exact: 'mic-2' }, echoCancellation: true });

    const gone = { getUserMedia: () => fail('OverconstrainedError') } as unknown as MediaDevices;
    expect(await openDevice(gone, 'video', { deviceId: 'x' }, () => released++)).toMatchObject({ problem: { code: 'switch-failed', text: 'Could not switch to that camera: it is gone.' } });
    expect(released).toBe(0); // only a busy device is worth releasing the one in use
  });
});
