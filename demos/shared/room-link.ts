/**
 * The room and optional password live in the page's hash (`#room=...&password=...`), so
 * the address bar is the invite link; a hash never reaches any server. A page opened
 * without a room makes one up (`<prefix>-<random>`) and writes it back, so its link
 * invites at once. Shared by the editor, game and video demos.
 */
export interface RoomLink {
  room: string;
  password: string | undefined;
}

/** Read the room from the hash, creating a random one named `<prefix>-...` (written back) when absent. */
export function readRoomLink(location: Location, history: History, prefix: string, randomChars = 6): RoomLink {
  const params = new URLSearchParams(location.hash.slice(1));
  let room = params.get('room') ?? '';
  if (!room) {
    room = `${prefix}-${Math.random().toString(36).slice(2, 2 + randomChars)}`;
    params.set('room', room);
    history.replaceState(null, '', `${location.pathname}${location.search}#${params}`);
  }
  return { room, password: params.get('password') || undefined };
}
