/**
 * Tells a peer how large we show its stream, so it encodes it for us no larger (meshparty's
 * media.setViewSize): the tile's video box in device pixels, again whenever it changes size
 * (a resize, tiles coming and going), and 0 × 0 while it is not seen (the tile hidden, the
 * page in the background), which pauses that peer's encoding for us.
 */
export function watchViewSize(video: HTMLVideoElement, report: (size: { width: number; height: number }) => void): () => void {
  let box = { width: 0, height: 0 };
  const send = () => {
    const seen = document.visibilityState !== 'hidden';
    const ratio = window.devicePixelRatio || 1;
    report(seen ? { width: Math.round(box.width * ratio), height: Math.round(box.height * ratio) } : { width: 0, height: 0 });
  };
  // The media share sends at most a size every 250 ms however often this fires (a drag).
  const observer = new ResizeObserver(([entry]) => {
    if (!entry) return;
    box = { width: entry.contentRect.width, height: entry.contentRect.height };
    send();
  });
  observer.observe(video);
  document.addEventListener('visibilitychange', send);
  return () => {
    observer.disconnect();
    document.removeEventListener('visibilitychange', send);
  };
}
