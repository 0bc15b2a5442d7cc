/**
 * Lockstep messages that do not decode count with the peer's bad input on every other
 * layer: each is a strike of the room (Room.strike), so the mesh's maxStrikes across all
 * layers cuts the sender off, not only the session's own limit of 100 (after which it
 * merely ignores the peer). A message that decodes but comes out of turn is not a strike.
 */
import { describe, expect, it } from 'vitest';
import { bitfieldInput, createLockstepSession, defineGame } from '../../src/index.js';
import { makeWalkGame, type WalkState } from './games.js';
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

describe('another build of the game', () => {
  // A build with more buttons: its inputs are 2 bytes, the walk game's 1. Input packets of
  // one do not decode at the other (truncated, or bytes left over), 60 a second.
  const wide = bitfieldInput(['up', 'down', 'left', 'right', 'fire', 'jump', 'duck', 'use', 'map'] as const);
  const { input: _narrow, ...walkRules } = makeWalkGame();
  const newerBuild = defineGame<WalkState, (typeof wide)['neutral']>({ ...walkRules, input: wide });

  it("is no strike of the room: undecodable input packets leave the peer connected (the session alone ignores it)", async () => {
    const n = net(72);
    const [a, b] = await connect(n, ['a', 'b']);
    const left: string[] = [];
    for (const r of [a!, b!]) r.on('peer-left', ({ id, reason }) => left.push(`${r.selfId} lost ${id}: ${reason}`));
    const logs: string[] = [];
    const sa = walk(a!, n, 0, {}, logs);
    const sb = createLockstepSession({ room: b!, game: newerBuild, clock: n.clock, inputDelay: 'auto', log: (m) => logs.push(`b: ${m}`), input: () => wide.neutral });
    await n.advance(200);
    sa.start({ seed: 3 });
    await n.advance(5000);
    // Each could not read the other's inputs (1 or 2 bytes each) and ignores it after 100 ...
    expect(logs.some((l) => /^b: dropped a message from a: .*ignoring this peer from now on/.test(l))).toBe(true);
    expect(logs.some((l) => /^a: dropped a message from b: .*ignoring this peer from now on/.test(l))).toBe(true);
    // ... but neither is cut off from the room (its chat, documents and media go on).
    expect(left).toEqual([]);
    expect(a!.peers.has('b') && b!.peers.has('a')).toBe(true);
    sa.leave();
    sb.leave();
    await Promise.all([a!.leave(), b!.leave()]);
  });
});
