/**
 * What is wrong with a room right now, in words a person understands, for a demo's
 * status line or error banner.
 *
 * A room emits `error` both for failures that end it (followed at once by status
 * `closed`) and for trouble it lives on with (`transport-failed`: this browser would not
 * create a peer connection). Showing each event's raw message as it came put library
 * wording in front of people, and either left it up long after it stopped being true
 * (chat) or wiped it at the next unrelated status change while it was still true
 * (editor). Here each problem lasts as long as it applies:
 * - one that ended the room stays (the room is closed and does not rejoin by itself);
 * - `transport-failed` lasts until a peer connection opens (the browser makes them
 *   again) or the room is back in after losing the relay (the mesh then tries everyone
 *   again and reports what still fails);
 * - any other error the room lives on with lasts until the room's next status change.
 */
import type { MeshpartyError, Room } from '../../src/index.js';
import { errorText } from './error-text.js';

export interface RoomProblem {
  code: string;
  /** What to tell the person (error-text.ts). */
  text: string;
  /** The room ended because of it. */
  fatal: boolean;
}

export interface RoomProblemWatch {
  /** The problem to show now, or undefined when there is none. */
  current(): RoomProblem | undefined;
  /** Stop listening to the room. */
  stop(): void;
}

/** Watch `room` for problems; `onChange` runs whenever the one to show changes. */
export function watchRoomProblem(room: Room, relay: string, onChange: (problem: RoomProblem | undefined) => void): RoomProblemWatch {
  let transport: MeshpartyError | undefined; // transport-failed, until a connection opens
  let other: MeshpartyError | undefined; // any other error the room lived on with, until its next status change
  let last: MeshpartyError | undefined; // the reason the room closed, if an error closed it

  const describe = (err: MeshpartyError, fatal: boolean): RoomProblem => ({ code: err.code, text: errorText(err.code, err.message, relay), fatal });
  // Read from the room's own status, so a status listener that asks during `closed` gets
  // the fatal reason whichever listener the room calls first.
  const current = (): RoomProblem | undefined => {
    if (room.status === 'closed') return last && describe(last, true);
    const err = other ?? transport;
    return err && describe(err, false);
  };
  let shown = current();
  const update = () => {
    const next = current();
    if (next?.code === shown?.code && next?.text === shown?.text && next?.fatal === shown?.fatal) return;
    shown = next;
    onChange(next);
  };

  const offs = [
    room.on('error', (err) => {
      // A fatal error closes the room right after it is emitted (in the same task): one
      // that has not by the next microtask is not why the room may close later.
      last = err;
      queueMicrotask(() => {
        if (room.status !== 'closed' && last === err) last = undefined;
      });
      if (err.code === 'transport-failed') transport = err;
      else other = err;
      update();
    }),
    room.on('peer-joined', () => {
      transport = undefined;
      update();
    }),
    room.on('status', (s) => {
      if (s !== 'closed') other = undefined;
      if (s === 'connected') transport = undefined;
      update();
    }),
  ];
  return { current, stop: () => offs.forEach((off) => off()) };
}
