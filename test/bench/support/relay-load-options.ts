/**
 * meshparty relay options for a benchmark whose load clients all connect from 127.0.0.1:
 * the per-IP caps on connections (default 64) and TCP sockets (default 256) must allow
 * all of them, the per-address join rate (default 4/s, burst 64) must let them all join
 * at once, and the message and byte rates are raised so the bench measures forwarding,
 * not the limiter. Other limits stay at their defaults.
 */
export function relayOptionsForLoad(connections: number): Record<string, number> {
  return {
    maxConnectionsPerIp: connections + 100,
    maxSocketsPerIp: connections + 100,
    joinsPerSecond: 100_000,
    joinBurst: connections + 100,
    messagesPerSecond: 100_000,
    messageBurst: 100_000,
    bytesPerSecond: 1e9,
    byteBurst: 1e9,
  };
}
