import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { ClientConnection } from '../../signaling/client-connection.js';
import { silentLogger } from '../../signaling/logger.js';
import { MetricsCounters } from '../../signaling/metrics.js';
import { resolveOptions } from '../../signaling/options.js';
import { RelayProtocol } from '../../signaling/relay-protocol.js';
import { InMemoryRoomDirectory } from '../../signaling/room-directory.js';

const CAP = 1000;
const CHAIN = 5000;

/** A relay's protocol layer over fake sockets: ones whose send buffer is full, or ones that record. */
function relayOverFakes() {
  const opts = resolveOptions({ maxBufferedBytes: CAP });
  const rooms = new InMemoryRoomDirectory();
  const protocol = new RelayProtocol(opts, rooms, new InMemoryRoomDirectory(), new MetricsCounters(), silentLogger);
  const connect = (full: boolean): { conn: ClientConnection; sent: string[] } => {
    const sent: string[] = [];
    const ws = { OPEN: 1, readyState: 1, bufferedAmount: full ? CAP : 0, send: (f: string) => sent.push(f), terminate() {}, close() {} };
    // Wired as server.ts wires it: a full buffer ends the connection, and ending leaves its rooms.
    const conn = new ClientConnection(ws as unknown as WebSocket, '127.0.0.1', opts, () => {}, (c) => c.end('slow-consumer', 0, ''));
    conn.onEnd = () => protocol.onClose(conn, true);
    return { conn, sent };
  };
  // As a join puts a member in (a join frame would also send it `joined`, which overflows a full buffer).
  const enter = (conn: ClientConnection, room: string): void => {
    rooms.add(room, { id: conn.id, deliver: (frame) => conn.sendFrame(frame) });
    conn.rooms.set(room, conn.id);
  };
  return { rooms, connect, enter };
}

// Every peer-left told to a room can drop a member whose buffer is full, whose own peer-left
// is told in turn. Done inside the close that caused it, a chain of such members nested one
// close per member and overflowed the stack (at ~1000 here), leaving rooms half torn down or,
// from a socket's close handler, an uncaught exception: the relay gone.
describe('relay: a chain of slow readers is dropped without recursion', () => {
  it(`${CHAIN} in one room: all dropped, the room told of each in order`, () => {
    const { rooms, connect, enter } = relayOverFakes();
    const healthy = connect(false);
    const leaver = connect(false);
    const slow = Array.from({ length: CHAIN }, () => connect(true));
    for (const { conn } of [healthy, leaver, ...slow]) enter(conn, 'r');

    // The leaver's socket closes, as ws reports it: outside any frame handler's try/catch.
    expect(() => leaver.conn.end('heartbeat', 0, '')).not.toThrow();

    expect(slow.every((s) => s.conn.ended && s.conn.rooms.size === 0)).toBe(true);
    expect(rooms.members('r')).toEqual([healthy.conn.id]);
    const left = healthy.sent.map((f) => JSON.parse(f) as { type: string; peerId: string });
    expect(left.every((m) => m.type === 'peer-left')).toBe(true);
    expect(left.map((m) => m.peerId)).toEqual([leaver.conn.id, ...slow.map((s) => s.conn.id)]);
  });

  it(`${CHAIN} across rooms of two (default room and per-connection limits): all dropped`, () => {
    const { rooms, connect, enter } = relayOverFakes();
    // Member i is in rooms i and i+1: each departure reaches only the next member.
    const chain = [connect(false), ...Array.from({ length: CHAIN }, () => connect(true))];
    chain.forEach(({ conn }, i) => {
      enter(conn, `room-${i}`);
      enter(conn, `room-${i + 1}`);
    });

    expect(() => chain[0]!.conn.end('heartbeat', 0, '')).not.toThrow();

    expect(chain.every((c) => c.conn.ended)).toBe(true);
    expect(rooms.roomCount()).toBe(0);
  });
});
