/**
 * Start a tile's video. Browsers may refuse to autoplay sound before the person has
 * clicked anything on the page; then the video plays muted (so the picture shows) and the
 * tile offers a button that turns the sound on, which is a click, so it is allowed.
 */
export function startPlayback(video: HTMLVideoElement, soundButton: HTMLButtonElement): void {
  const unmute = () => {
    video.muted = false;
    soundButton.hidden = true;
    video.play().catch(() => {
      video.muted = true;
      soundButton.hidden = false;
    });
  };
  soundButton.onclick = unmute;
  video.play().catch((err: unknown) => {
    // Anything but the autoplay rule (the tile removed meanwhile: AbortError) needs nothing.
    if ((err as { name?: string }).name !== 'NotAllowedError' || video.muted) return;
    video.muted = true;
    soundButton.hidden = false;
    void video.play().catch(() => {});
  });
}
