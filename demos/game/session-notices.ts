/**
 * What the game page says when the session goes on without someone, or cannot let this
 * page in: without these, a page that cannot reach one player sat in the lobby saying
 * "room …" for good, and a friend dropped for silence just vanished from the arena.
 */
import type { LockstepSession } from '../../src/index.js';

/** Shows one line of status: `warning` while the page is not where the player expects. */
export type ShowStatus = (state: 'warning', text: string) => void;

/**
 * Put the session's `absent` and `not-admitted` events into words in the status line
 * (`started` and the room's own status replace them). Returns the unsubscribe function.
 *
 * @example
 * ```ts
 * const off = showSessionNotices(session, (id) => lobby.nameOf(id), setStatus);
 * ```
 */
export function showSessionNotices<S, I>(session: LockstepSession<S, I>, nameOf: (id: string) => string, show: ShowStatus): () => void {
  const names = (ids: readonly string[]) => ids.map(nameOf).join(', ');
  const offs = [
    session.on('absent', ({ peer, reason }) => {
      const why = reason.code === 'member-ignored' ? 'its messages do not fit this game (another version?)' : 'not heard from for 10 s';
      show('warning', `${nameOf(peer)} is out of the game: ${why}`);
    }),
    session.on('not-admitted', ({ unreachable }) =>
      show(
        'warning',
        unreachable.length > 0
          ? `cannot join the game: no connection to ${names(unreachable)} (a firewall between you?); still trying`
          : 'a game is running: waiting to be let in',
      ),
    ),
  ];
  return () => offs.forEach((off) => off());
}
