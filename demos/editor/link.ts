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

