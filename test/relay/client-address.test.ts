import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { addressKey, clientAddress } from '../../signaling/client-address.js';

describe('addressKey (what maxConnectionsPerIp counts)', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6, groups IPv6 by /64', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('::ffff:cb00:7109')).toBe('203.0.113.9');
    expect(addressKey('::1')).toBe('::1');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressKey('2001:DB8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('not an address')).toBe('not an address');
  });
});

describe('clientAddress behind a trusted proxy', () => {
  const via = (forwarded: string) => ({ headers: { 'x-forwarded-for': forwarded }, socket: { remoteAddress: '10.0.0.2' } }) as unknown as IncomingMessage;

  it('counts a client by its address when the proxy appends it with a port', () => {
    // Some proxies (Azure's among them) append `address:port`: every connection of one
    // client comes from another port, and keyed by it each would have limits of its own.
    expect(clientAddress(via('6.6.6.6, 203.0.113.9:51234'), true)).toBe('203.0.113.9');
    expect(clientAddress(via('[2001:db8:1:2::1]:443'), true)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(via('[2001:db8:1:2::1]'), true)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(via('203.0.113.9'), true)).toBe('203.0.113.9');
    expect(clientAddress(via('2001:db8:1:2::1'), true)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(via('203.0.113.9:51234'), false)).toBe('10.0.0.2');
  });
});
