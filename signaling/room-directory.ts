/**
 * Room membership and delivery, behind one small interface. The relay's protocol logic
 * only talks to a RoomDirectory, so a later multi-instance relay can swap in one that
 * mirrors membership and forwards frames through Redis pub/sub. Methods are synchronous:
 * such an implementation keeps a local mirror of membership (updated by pub/sub) and
 * publishes remote deliveries fire-and-forget, which keeps per-sender order.
 */

/**
 * Someone who can receive frames: a connection's presence in one room or topic.
 *
 * @example
 * ```ts
 * const member: DirectoryMember = { id: peerId, deliver: (frame) => socket.send(frame) };
 * ```
 */
export interface DirectoryMember {
  /** Unique within the room (the peer id for rooms, the connection id for topics). */
  readonly id: string;
  /** Hand one serialised frame to this member. */
  deliver(frame: string): void;
  /**
   * Hex SHA-256 of the resume key the member joined with, if any. A shared directory
   * carries it to the other instances, so the client can resume its id on any of them.
   */
  readonly resumeKeyHash?: string;
  /**
   * Called when another relay instance took this member over (its client came back
   * there with its resume key); the member is already out of the directory.
   */
  evicted?(): void;
}

/**
 * Who is in which room, and delivery to them. Pass one as the `rooms` option to change
 * where membership lives (e.g. shared between relay instances).
 *
 * @example
 * ```ts
 * const rooms: RoomDirectory = new InMemoryRoomDirectory();
 * const relay = await createSignalingServer({ port: 0, rooms });
 * rooms.members('lobby'); // peer ids in join order
 * ```
 */
export interface RoomDirectory {
  /** Add `member` to `room`; false if that id is already there. */
  add(room: string, member: DirectoryMember): boolean;
  /**
   * Remove `memberId` from `room`; false if it was not there. Empty rooms disappear. A
   * shared directory may hold members of other instances: removing one evicts it there.
   */
  remove(room: string, memberId: string): boolean;
  has(room: string, memberId: string): boolean;
  /** The ids in `room`, in join order. */
  members(room: string): string[];
  /** How many members `room` has (0 for unknown rooms). */
  size(room: string): number;
  /** How many rooms have at least one member. */
  roomCount(): number;
  /** Deliver to one member; false if it is not in the room. */
  sendTo(room: string, memberId: string, frame: string): boolean;
  /** Deliver to every member except `exceptId`; returns how many received it. */
  broadcast(room: string, frame: string, exceptId?: string): number;
}

/**
 * The single-process RoomDirectory.
 *
 * @example
 * ```ts
 * const rooms = new InMemoryRoomDirectory();
 * rooms.add('lobby', { id: 'p1', deliver: (f) => socket.send(f) });
 * rooms.broadcast('lobby', JSON.stringify({ type: 'hello' }));
 * ```
 */
export class InMemoryRoomDirectory implements RoomDirectory {
  readonly #rooms = new Map<string, Map<string, DirectoryMember>>();

  add(room: string, member: DirectoryMember): boolean {
    let members = this.#rooms.get(room);
    if (!members) this.#rooms.set(room, (members = new Map()));
    if (members.has(member.id)) return false;
    members.set(member.id, member);
    return true;
  }

  remove(room: string, memberId: string): boolean {
    const members = this.#rooms.get(room);
    if (!members || !members.delete(memberId)) return false;
    if (members.size === 0) this.#rooms.delete(room);
    return true;
  }

  has(room: string, memberId: string): boolean {
    return this.#rooms.get(room)?.has(memberId) ?? false;
  }

  members(room: string): string[] {
    return [...(this.#rooms.get(room)?.keys() ?? [])];
  }

  size(room: string): number {
    return this.#rooms.get(room)?.size ?? 0;
  }

  roomCount(): number {
    return this.#rooms.size;
  }

  sendTo(room: string, memberId: string, frame: string): boolean {
    const member = this.#rooms.get(room)?.get(memberId);
    if (!member) return false;
    member.deliver(frame);
    return true;
  }

  broadcast(room: string, frame: string, exceptId?: string): number {
    const members = this.#rooms.get(room);
    if (!members) return 0;
    let n = 0;
    // Copy first: a delivery may drop a slow member, which edits this map.
    for (const member of [...members.values()]) {
      if (member.id === exceptId) continue;
      member.deliver(frame);
      n++;
    }
    return n;
  }
}
