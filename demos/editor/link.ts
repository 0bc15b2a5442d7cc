/**
 * The room and optional password live in the page's hash (`#room=...&password=...`), so
 * copying the link invites a friend into the same room. The hash never reaches a server.
 */
export interface RoomLink {
  room: string;
  password: string | undefined;
}

/** Read the room from the hash, creating a random one (and writing it back) when absent. */
export function readRoomLink(location: Location, history: History): RoomLink {
  const params = new URLSearchParams(location.hash.slice(1));
  let room = params.get('room') ?? '';
  if (!room) {
    room = `doc-${Math.random().toString(36).slice(2, 10)}`;
    params.set('room', room);
    history.replaceState(null, '', `${location.pathname}${location.search}#${params}`);
  }
  return { room, password: params.get('password') || undefined };
}

/**
 * The relay's WebSocket URL, as every demo finds it (README, "How demo pages find the
 * relay"): `?relay=`, then `VITE_MESHPARTY_RELAY` from `npm start`, then the page's host
 * on the relay's default port.
 */
export function relayUrl(location: Location, defaultPort: number): string {
  const fromQuery = new URLSearchParams(location.search).get('relay');
  if (fromQuery) return fromQuery;
  const fromEnv = (import.meta as { env?: Record<string, string | undefined> }).env?.VITE_MESHPARTY_RELAY;
  if (fromEnv) return fromEnv;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.hostname}:${defaultPort}`;
}
