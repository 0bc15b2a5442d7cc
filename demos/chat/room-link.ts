/**
 * Where the chat page gets its room, password and relay from. The room (and password,
 * when one is set) live in the hash (`#room=...&password=...`): sharing the link invites a
 * friend, and a hash never reaches any server. The relay URL comes from
 * `../shared/relay-url.ts`.
 */

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


/** A short random name for rooms and guests. */
export function randomName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}
