/**
 * The room and optional password live in the page's hash (`#room=...&password=...`), so
 * the address bar is the invite link; a hash never reaches any server. A page opened
 * without a room makes one up and writes it back, so its link invites at once.
 */
export interface RoomLink {
  room: string;
  password: string | undefined;
}

export function readRoomLink(location: Location, history: History): RoomLink {
  const params = new URLSearchParams(location.hash.slice(1));
  let room = params.get('room') ?? '';
  if (!room) {
    room = `call-${Math.random().toString(36).slice(2, 8)}`;
    params.set('room', room);
    history.replaceState(null, '', `${location.pathname}${location.search}#${params}`);
  }
  return { room, password: params.get('password') || undefined };
}
