/**
 * Another camera or microphone mid-call, and a phone's camera flipped front to back: the
 * new device's track takes the old one's place in our camera stream through
 * `media.replaceTrack` (the page's `switchTrack`), so the others keep the tile and see
 * the new picture with no renegotiation. One list per kind names the devices
 * (enumerateDevices: their names show once the camera was allowed); *Flip camera* shows
 * only where there is more than one camera.
 */
import { openDevice, type DeviceChoice, type MediaProblem } from './local-media.js';

export interface DevicePickerUi {
  cameraSelect: HTMLSelectElement;
  micSelect: HTMLSelectElement;
  flip: HTMLButtonElement;
}

export interface DevicePickerHost {
  /** Put `next` in `oldTrack`'s place, for us and the others; rejects if it could not. */
  switchTrack(oldTrack: MediaStreamTrack, next: MediaStreamTrack): Promise<void>;
  /** A switch failed (null: the last problem is over). */
  problem(problem: MediaProblem | null): void;
}

const KINDS = { video: 'videoinput', audio: 'audioinput' } as const;

/** Bind the lists and the flip button to `stream` (our camera stream); returns the unbind function. */
export function bindDevicePicker(devices: MediaDevices, stream: MediaStream, ui: DevicePickerUi, host: DevicePickerHost): () => void {
  const select = { video: ui.cameraSelect, audio: ui.micSelect };
  // An ended one too (an unplugged camera): another device can take its place.
  const current = (kind: 'audio' | 'video') => stream.getTracks().find((t) => t.kind === kind);
  let cameras: MediaDeviceInfo[] = [];
  let busy = false;

  const refresh = async () => {
    const all = await devices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
    for (const kind of ['video', 'audio'] as const) {
      const list = all.filter((d) => d.kind === KINDS[kind] && d.deviceId !== '');
      if (kind === 'video') cameras = list;
      const el = select[kind];
      const track = current(kind);
      const live = track?.readyState === 'live';
      const inUse = live ? track.getSettings().deviceId : undefined;
      const options = list.map((d, i) => new Option(d.label || `${kind === 'video' ? 'Camera' : 'Microphone'} ${i + 1}`, d.deviceId, false, d.deviceId === inUse));
      // None in use (it ended): a placeholder, so picking even the only device left is a change.
      if (!options.some((o) => o.selected)) options.unshift(Object.assign(new Option(`Choose a ${kind === 'video' ? 'camera' : 'microphone'}…`, '', true, true), { disabled: true }));
      el.replaceChildren(...options);
      // No track of this kind to put another in place of, or nothing else to choose.
      el.hidden = !track || list.length === 0 || (live && list.length < 2);
      el.disabled = busy;
    }
    ui.flip.hidden = cameras.length < 2 || !current('video');
    ui.flip.disabled = busy;
  };

  // An unplugged device's track ends: offer what is left (its devicechange may come first).
  const onChange = () => void refresh();

  /** Switch to the first of `choices` that opens. */
  const switchTo = async (kind: 'audio' | 'video', ...choices: DeviceChoice[]) => {
    const old = current(kind);
    if (!old || busy) return;
    busy = true;
    await refresh();
    try {
      let opened: Awaited<ReturnType<typeof openDevice>> | undefined;
      for (const choice of choices) {
        opened = await openDevice(devices, kind, choice, () => old.stop());
        if ('track' in opened) break;
      }
      if (!opened) return;
      if ('problem' in opened) return host.problem(opened.problem);
      try {
        await host.switchTrack(old, opened.track);
        opened.track.addEventListener('ended', onChange);
      } catch (err) {
        opened.track.stop();
        return host.problem({ code: 'switch-failed', text: `Could not switch: ${(err as Error).message}` });
      }
      // Only now: the others got the new track before the old one stopped sending.
      old.stop();
      host.problem(null);
    } finally {
      busy = false;
      await refresh();
    }
  };

  /**
   * The other side of a phone (its camera says which way it faces), else the next camera
   * in the list: also when the other side will not open (a laptop's camera may say it
   * faces the user while an external one says nothing).
   */
  const flip = () => {
    const settings = current('video')?.getSettings();
    const at = cameras.findIndex((c) => c.deviceId === settings?.deviceId);
    const next = cameras[(at + 1) % cameras.length];
    const choices: DeviceChoice[] = next ? [{ deviceId: next.deviceId }] : [];
    const facing = settings?.facingMode;
    if (facing === 'user' || facing === 'environment') choices.unshift({ facingMode: facing === 'user' ? 'environment' : 'user' });
    return switchTo('video', ...choices);
  };

  ui.cameraSelect.onchange = () => void switchTo('video', { deviceId: ui.cameraSelect.value });
  ui.micSelect.onchange = () => void switchTo('audio', { deviceId: ui.micSelect.value });
  ui.flip.onclick = () => void flip();
  // A camera plugged in or out changes the lists.
  devices.addEventListener?.('devicechange', onChange);
  for (const t of stream.getTracks()) t.addEventListener('ended', onChange);
  void refresh();
  return () => devices.removeEventListener?.('devicechange', onChange);
}
