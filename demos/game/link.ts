/**
 * Where the game page finds its room and relay. The room lives in the hash
 * (`#room=...`), so copying the link invites a friend; the relay comes from `?relay=`
 * (what `npm start` prints), else `VITE_MESHPARTY_RELAY`, else this host on port 4444.
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

export function relayUrl(location: Location): string {
  const fromQuery = new URLSearchParams(location.search).get('relay');
  if (fromQuery) return fromQuery;
  const fromEnv = (import.meta as { env?: Record<string, string | undefined> }).env?.VITE_MESHPARTY_RELAY;
  if (fromEnv) return fromEnv;
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.hostname}:4444`;
}
