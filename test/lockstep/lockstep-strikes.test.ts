/**
 * Lockstep messages that do not decode count with the peer's bad input on every other
 * layer: each is a strike of the room (Room.strike), so the mesh's maxStrikes across all
 * layers cuts the sender off, not only the session's own limit of 100 (after which it
 * merely ignores the peer). A message that decodes but comes out of turn is not a strike.
 */
import { describe, expect, it } from 'vitest';
import { connect, net, walk } from './support/memory-sessions.js';

describe('undecodable lockstep messages', () => {
  it('are strikes of the room: the mesh cuts the sender off at its maxStrikes', async () => {
    const n = net(71, { mesh: { maxStrikes: 2 } });
    const [a, b] = await connect(n, ['a', 'b']);
    const session = walk(a!, n, 0);
    const left: string[] = [];
    a!.on('peer-left', ({ id, reason }) => left.push(`${id}:${reason}`));
    await n.advance(200);
    await b!.channel('lockstep:ctl').send('a', new Uint8Array([99]));
    await n.advance(100);
    expect(left).toEqual([]);
    await b!.channel('lockstep:ctl').send('a', new Uint8Array([99, 1]));
    await n.advance(100);
    expect(left).toEqual(['b:misbehaving']);
    session.leave();
    await Promise.all([a!.leave(), b!.leave()]);
  });
});
