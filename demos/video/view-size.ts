/**
 * Tells a peer how large we show its stream, so it encodes it for us no larger (meshparty's
 * media.setViewSize): the tile's video box in device pixels, again whenever it changes size
 * (a resize, tiles coming and going), and 0 × 0 while it is not seen (the tile hidden, the
 * page in the background), which pauses that peer's encoding for us.
 */
export function watchViewSize(video: HTMLVideoElement, report: (size: { width: number; height: number }) => void): () => void {
  /** The video's box, once the observer measured it: a page in the background draws nothing, so its observers wait. */
  let box: { width: number; height: number } | undefined;
  const send = () => {
    if (document.visibilityState === 'hidden') return report({ width: 0, height: 0 });
    // Shown but not measured yet (back from the background): the observer reports it at the next frame.
    if (!box) return;
    const ratio = window.devicePixelRatio || 1;
    report({ width: Math.round(box.width * ratio), height: Math.round(box.height * ratio) });
  };
  // The media share sends at most a size every 250 ms however often this fires (a drag).
  const observer = new ResizeObserver(([entry]) => {
    if (!entry) return;
    box = { width: entry.contentRect.width, height: entry.contentRect.height };
    send();
  });
  observer.observe(video);
  document.addEventListener('visibilitychange', send);
  // A tile that comes while the page is in the background: not seen (the observer would say so only once the page is back).
  if (document.visibilityState === 'hidden') send();
  return () => {
    observer.disconnect();
    document.removeEventListener('visibilitychange', send);
  };
}
