/**
 * Which "address" a connection counts against for `maxConnectionsPerIp` (and a TCP
 * socket for `maxSocketsPerIp`, by its peer address, since no header has come yet). IPv4 addresses
 * count as themselves; IPv6 addresses count by their /64 prefix, because one host
 * usually holds a whole /64 and could otherwise open unlimited connections. Behind a
 * reverse proxy, the proxy's appended X-Forwarded-For entry names the client.
 */
import { isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Expand an IPv6 address to its eight 16-bit groups; undefined if it is not one. */
function ipv6Groups(ip: string): number[] | undefined {
  if (!isIPv6(ip)) return undefined;
  let text = ip.split('%')[0]!; // drop a zone id
  // A trailing dotted IPv4 part (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<number>(zeros).fill(0), ...right];
}

/**
 * The key `ip` is counted under: IPv4 (also IPv4-mapped IPv6) as is, IPv6 as its /64.
 *
 * @example
 * ```ts
 * addressKey('::ffff:10.0.0.7');          // '10.0.0.7'
 * addressKey('2001:db8:1:2:aaaa::1');     // '2001:db8:1:2::/64'
 * ```
 */
export function addressKey(ip: string): string {
  const groups = ipv6Groups(ip);
  if (!groups) return ip;
  const isV4Mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isV4Mapped) return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
  if (groups.every((g, i) => (i < 7 ? g === 0 : g === 1))) return '::1';
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/**
 * An X-Forwarded-For entry without the port some proxies (Azure's among them) append:
 * `203.0.113.9:51234`, `[2001:db8::1]:443`. Keyed with it, every connection of one client
 * (each from another port) would count as a client of its own.
 */
function withoutPort(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry);
  return v4 ? v4[1]! : entry;
}

/**
 * The client's address for limits and logs. With `trustProxy`, the last X-Forwarded-For
 * entry (the one our own proxy appended; earlier ones are the client's word) is used.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const last = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').pop()?.trim();
    if (last) return addressKey(withoutPort(last));
  }
  return addressKey(req.socket.remoteAddress ?? 'unknown');
}
