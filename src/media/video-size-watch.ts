/**
 * Notices a published video track changing size (`applyConstraints`, a phone turned on
 * its side, a camera's own adaptation). The encoding for each peer's view is a scale of
 * the track's size (view-encoding.ts), chosen from `getSettings()` when the view came: a
 * camera that then shrinks would reach a peer smaller than its tile, one that grows larger
 * than needed. No event says a track's size changed, so it is read every second.
 */

/** How often the sizes are read (ms). */
const SIZE_CHECK_MS = 1000;

/**
 * Call `onResize` whenever a video track of `tracks` (read at each check: the array may
 * change) reports a size other than at the last check; returns the function that stops.
 */
export function watchVideoSize(tracks: readonly MediaStreamTrack[], onResize: () => void): () => void {
  const sizeOf = (track: MediaStreamTrack): string => {
    if (track.kind !== 'video' || typeof track.getSettings !== 'function') return '';
    const { width, height } = track.getSettings();
    return `${width}x${height}`;
  };
  let last = new Map(tracks.map((t) => [t, sizeOf(t)]));
  const timer = setInterval(() => {
    const now = new Map(tracks.map((t) => [t, sizeOf(t)]));
    // A track new since the last check (replaceTrack) was sized when it came in.
    const changed = [...now].some(([track, size]) => last.has(track) && last.get(track) !== size);
    last = now;
    if (changed) onResize();
  }, SIZE_CHECK_MS);
  return () => clearInterval(timer);
}
