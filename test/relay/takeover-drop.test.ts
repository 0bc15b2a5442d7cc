/**
 * A join during which the joiner itself is dropped: a send it causes (`peer-id-resumed` to
 * the old connection of a resume, `peer-joined` to a member) counts against the relay-wide
 * send budget, which sheds the readers with the most waiting, and that can be the joiner.
 * Driven through RelayProtocol with stand-in sockets, so the drop happens at exactly that send.
 */
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { ClientConnection } from '../../signaling/client-connection.js';
import { silentLogger } from '../../signaling/logger.js';
import { MetricsCounters } from '../../signaling/metrics.js';
import { resolveOptions } from '../../signaling/options.js';
import { RelayProtocol } from '../../signaling/relay-protocol.js';
import { InMemoryRoomDirectory } from '../../signaling/room-directory.js';

const KEY = 'k'.repeat(22);

/** A stand-in open socket that records what it is sent. */
function fakeSocket(frames: string[]): WebSocket {
  return { readyState: 1, OPEN: 1, bufferedAmount: 0, send: (f: string) => frames.push(f), close() {}, terminate() {} } as unknown as WebSocket;
}

/**
 * A relay protocol over stand-in sockets where a send to a connection for which `sheds`
 * holds drops `victim()` (as the relay-wide send budget sheds the reader with the most
 * waiting); `frames` records what each connection was sent.
 */
function sheddingRelay(sheds: (to: ClientConnection) => boolean, victim: () => ClientConnection | undefined) {
  const opts = resolveOptions({ port: 0 });
  const rooms = new InMemoryRoomDirectory();
  const protocol = new RelayProtocol(opts, rooms, new InMemoryRoomDirectory(), new MetricsCounters(), silentLogger);
  const frames = new Map<ClientConnection, string[]>();
  const open = (): ClientConnection => {
    const got: string[] = [];
    const conn = new ClientConnection(fakeSocket(got), '10.0.0.1', opts, (c) => {
      if (sheds(c)) victim()!.end('slow-consumer', 0, '');
    }, () => {});
    conn.onEnd = () => protocol.onClose(conn, true);
    frames.set(conn, got);
    return conn;
  };
  const send = (conn: ClientConnection, m: object): void => protocol.onFrame(conn, Buffer.from(JSON.stringify(m)), false);
  return { rooms, protocol, frames, open, send };
}

describe('relay: a joiner dropped by a send its join causes', () => {
  it('leaves no ghost member, and the room hears the peer left', () => {
    let old: ClientConnection | undefined;
    let joiner: ClientConnection | undefined;
    // As the relay-wide budget does: a send to the old connection sheds the joiner.
    const { rooms, protocol, frames, open, send } = sheddingRelay((c) => c === old && !!joiner && joiner.rooms.size === 0, () => joiner);

    const watcher = open();
    send(watcher, { type: 'join', v: 1, room: 'r' });
    old = open();
    send(old, { type: 'join', v: 1, room: 'r', peerId: 'alice', resumeKey: KEY });
    joiner = open();
    send(joiner, { type: 'join', v: 1, room: 'r', peerId: 'alice', resumeKey: KEY });

    expect(joiner.ended).toBe(true);
    expect(rooms.members('r')).toEqual([watcher.id]);
    const told = frames.get(watcher)!.map((f) => JSON.parse(f) as { type: string; peerId?: string });
    expect(told.filter((m) => m.peerId === 'alice').map((m) => m.type)).toEqual(['peer-joined', 'peer-left']);
    // Its id stays the key's for the grace period, as for any connection the relay dropped.
    expect(protocol.resumeKeys.claim('r', 'alice', undefined)).toEqual({ kind: 'taken' });
    expect(protocol.resumeKeys.claim('r', 'alice', KEY)).toEqual({ kind: 'resume', holder: undefined });
  });

  it('a joiner dropped while the room is told it joined: each member hears peer-joined, then peer-left', () => {
    let first: ClientConnection | undefined;
    let joiner: ClientConnection | undefined;
    // As the relay-wide budget does: the send to the first member sheds the joiner.
    const { rooms, frames, open, send } = sheddingRelay((c) => c === first && !!joiner && joiner.rooms.size > 0, () => joiner);
    first = open();
    send(first, { type: 'join', v: 1, room: 'r', peerId: 'first' });
    const second = open();
    send(second, { type: 'join', v: 1, room: 'r', peerId: 'second' });
    joiner = open();
    send(joiner, { type: 'join', v: 1, room: 'r', peerId: 'joiner' });

    expect(joiner.ended).toBe(true);
    expect(rooms.members('r')).toEqual(['first', 'second']);
    for (const member of [first, second]) {
      const told = frames.get(member)!.map((f) => JSON.parse(f) as { type: string; peerId?: string });
      expect(told.filter((m) => m.peerId === 'joiner').map((m) => m.type)).toEqual(['peer-joined', 'peer-left']);
    }
  });
});
