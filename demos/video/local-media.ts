/**
 * This page's own camera, microphone and screen, and what to tell the person when the
 * browser will not give them. A page without a camera still joins and watches the others,
 * so every failure here becomes a `MediaProblem` to show, never a thrown error.
 */

export interface MediaProblem {
  /** Stable, for the page's `data-code` (tests read it). */
  code: string;
  /** What to tell the person. */
  text: string;
}

export interface CameraResult {
  /** What the browser gave (camera and mic, or whichever of the two exists); null for nothing. */
  stream: MediaStream | null;
  /** Why there is less than camera and mic, if so. */
  problem?: MediaProblem;
}

/**
 * Modest video on purpose: in a mesh every page sends its camera to every other page, so
 * four people mean three encodes (and three uploads) each.
 */
const VIDEO: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } };
const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true };

const errorName = (err: unknown): string => (err instanceof Error || err instanceof DOMException ? err.name : '');

function cameraProblem(err: unknown): MediaProblem {
  switch (errorName(err)) {
    case 'NotAllowedError':
    case 'SecurityError':
      return { code: 'camera-refused', text: 'Camera and microphone were refused, so the others cannot see or hear you; you still see and hear them. Allow them for this site and reload to join in.' };
    case 'NotFoundError':
    case 'OverconstrainedError':
      return { code: 'camera-missing', text: 'No camera or microphone found; you can still see and hear the others.' };
    case 'NotReadableError':
    case 'AbortError':
      return { code: 'camera-busy', text: 'The camera or microphone is in use by another app (or failed to start); you can still see and hear the others.' };
    default:
      return { code: 'camera-failed', text: `The camera could not be opened (${errorName(err) || String(err)}); you can still see and hear the others.` };
  }
}

/**
 * Ask for camera and microphone. A device that is missing or busy is not the end: try
 * each alone, so a laptop without a mic still sends video (a refusal is final: asking
 * again would only nag).
 */
export async function openCamera(devices: MediaDevices | undefined): Promise<CameraResult> {
  if (!devices?.getUserMedia) {
    return { stream: null, problem: { code: 'camera-unavailable', text: 'This page cannot use a camera here (it needs https or localhost); you can still see and hear the others.' } };
  }
  let first: unknown;
  try {
    return { stream: await devices.getUserMedia({ video: VIDEO, audio: AUDIO }) };
  } catch (err) {
    first = err;
  }
  const problem = cameraProblem(first);
  if (problem.code === 'camera-refused') return { stream: null, problem };
  for (const [constraints, missing] of [
    [{ video: VIDEO }, 'microphone'],
    [{ audio: AUDIO }, 'camera'],
  ] as const) {
    try {
      const stream = await devices.getUserMedia(constraints);
      return { stream, problem: { code: `no-${missing}`, text: `No ${missing} could be opened: the others ${missing === 'camera' ? 'hear you but do not see you' : 'see you but do not hear you'}.` } };
    } catch {
      // try the other one
    }
  }
  return { stream: null, problem };
}

/** Which device to open for a switch: one by id (a picker), or a phone's side (its flip button). */
export type DeviceChoice = { deviceId: string } | { facingMode: 'user' | 'environment' };

/**
 * Open one camera or microphone to switch to, with the same modest settings as the first.
 * A phone often cannot open a second camera while the first runs (NotReadableError):
 * `release` then stops the one in use and it is tried once more (the others see "camera
 * off" for that moment, not an error).
 */
export async function openDevice(devices: MediaDevices, kind: 'audio' | 'video', choice: DeviceChoice, release: () => void): Promise<{ track: MediaStreamTrack } | { problem: MediaProblem }> {
  const pick = 'deviceId' in choice ? { deviceId: { exact: choice.deviceId } } : { facingMode: { exact: choice.facingMode } };
  const constraints = { [kind]: { ...(kind === 'video' ? VIDEO : AUDIO), ...pick } };
  let first: unknown;
  for (const attempt of [0, 1]) {
    try {
      const [track] = (await devices.getUserMedia(constraints)).getTracks();
      if (track) return { track };
    } catch (err) {
      first ??= err;
      if (attempt === 1 || !['NotReadableError', 'AbortError'].includes(errorName(err))) break;
      release();
    }
  }
  const what = kind === 'video' ? 'camera' : 'microphone';
  const why: Record<string, string> = { NotAllowedError: 'it is not allowed', SecurityError: 'it is not allowed', NotFoundError: 'it is gone', OverconstrainedError: 'it is gone', NotReadableError: 'it is in use by another app', AbortError: 'it failed to start' };
  return { problem: { code: 'switch-failed', text: `Could not switch to that ${what}: ${why[errorName(first)] ?? (errorName(first) || String(first))}.` } };
}

/** A screen, window or tab to share, or the problem that stopped it (a cancelled picker too). */
export async function pickScreen(devices: MediaDevices | undefined): Promise<{ stream: MediaStream } | { problem: MediaProblem }> {
  if (!devices?.getDisplayMedia) return { problem: { code: 'screen-unsupported', text: 'This browser cannot share a screen (a phone, or not https).' } };
  try {
    return { stream: await devices.getDisplayMedia({ video: true, audio: false }) };
  } catch (err) {
    if (errorName(err) === 'NotAllowedError') return { problem: { code: 'screen-refused', text: 'Screen sharing was cancelled or is not allowed.' } };
    return { problem: { code: 'screen-failed', text: `The screen could not be shared (${errorName(err) || String(err)}).` } };
  }
}
