/**
 * Where the game page finds its room. The room lives in the hash (`#room=...`), so
 * copying the link invites a friend. (The relay URL comes from `../shared/relay-url.ts`.)
 */
export function readRoom(location: Location, history: History): string {
  const params = new URLSearchParams(location.hash.slice(1));
  let room = params.get('room') ?? '';
  if (!room) {
    room = `arena-${Math.random().toString(36).slice(2, 8)}`;
    params.set('room', room);
    history.replaceState(null, '', `${location.pathname}${location.search}#${params}`);
  }
  return room;
}

