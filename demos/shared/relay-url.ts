/** The relay port `npm start` uses when nothing else is said. */
export const DEFAULT_RELAY_PORT = 4444;

/**
 * The relay's WebSocket URL, as every demo finds it (README, "How demo pages find the
 * relay"): `?relay=` (what `npm start` prints), then `VITE_MESHPARTY_RELAY` (set by
 * `npm start`), then the page's own host on the relay's default port.
 *
 * @example
 * ```ts
 * const room = await joinRoom({ relay: relayUrl(location), room: 'demo' });
 * ```
 */
export function relayUrl(location: Location, defaultPort = DEFAULT_RELAY_PORT): string {
  const fromQuery = new URLSearchParams(location.search).get('relay');
  if (fromQuery) return fromQuery;
  const fromEnv = (import.meta as { env?: Record<string, string | undefined> }).env?.VITE_MESHPARTY_RELAY;
  if (fromEnv) return fromEnv;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.hostname}:${defaultPort}`;
}
