/**
 * Where the chat page gets its room, password and relay from. The room (and password,
 * when one is set) live in the hash (`#room=...&password=...`): sharing the link invites a
 * friend, and a hash never reaches any server. The relay comes from `?relay=`, then from
 * `VITE_MESHPARTY_RELAY` (set by `npm start`), then the page's host on the relay's port.
 */

/** The relay's default port (`npm start` and `meshparty signal` use it when free). */
export const DEFAULT_RELAY_PORT = 4444;

export interface RoomLink {
  room: string | undefined;
  password: string | undefined;
}

export function readRoomLink(location: Location): RoomLink {
  const params = new URLSearchParams(location.hash.slice(1));
  return { room: params.get('room') || undefined, password: params.get('password') || undefined };
}

/** Put the room (and password) into the hash without reloading, so the address bar is the invite. */
export function writeRoomLink(location: Location, history: History, link: RoomLink): string {
  const params = new URLSearchParams();
  if (link.room) params.set('room', link.room);
  if (link.password) params.set('password', link.password);
  const url = `${location.pathname}${location.search}#${params}`;
  history.replaceState(null, '', url);
  return new URL(url, location.href).href;
}

export function relayUrl(location: Location): string {
  const fromQuery = new URLSearchParams(location.search).get('relay');
  if (fromQuery) return fromQuery;
  const fromEnv = (import.meta as { env?: Record<string, string | undefined> }).env?.VITE_MESHPARTY_RELAY;
  if (fromEnv) return fromEnv;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.hostname}:${DEFAULT_RELAY_PORT}`;
}

/** A short random name for rooms and guests. */
export function randomName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}
