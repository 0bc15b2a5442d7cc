/**
 * demos/shared/display-name.ts: a name another peer chose, as the chat, editor and game
 * demos show it. Any peer can send any string: one that turns itself around with a bidi
 * control, hides characters, breaks lines, or ends in "(you)" (how a page marks its own
 * person) must show as plain text that cannot pass for someone else.
 */
import { describe, expect, it } from 'vitest';
import { displayName } from '../../demos/shared/display-name.js';
import { Lobby } from '../../demos/game/lobby.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';

describe('displayName', () => {
  it('drops bidi controls, invisible characters and controls, and folds white space', () => {
    expect(displayName('\u202eexe.txt', 32)).toBe('exe.txt');
    expect(displayName('A\u200bd\u200da\ufeff', 32)).toBe('Ada');
    expect(displayName('Ada\u2067\u2069 \u061c', 32)).toBe('Ada');
    expect(displayName('  Ada \n\t Lovelace  ', 32)).toBe('Ada Lovelace');
    expect(displayName('Ad\u0000a\u001b[31m', 32)).toBe('Ada[31m');
    expect(displayName('A\u034fd\u{e0041}a\u{1d173}\u{e0100}', 32)).toBe('Ada'); // grapheme joiner, tag and musical format characters, a variation selector
  });

  it('takes off a trailing "(you)", also repeated or spaced, and keeps one inside', () => {
    expect(displayName('Ada (you)', 32)).toBe('Ada');
    expect(displayName('Ada (YOU) ( you )', 32)).toBe('Ada');
    expect(displayName('Ada\uff08you\uff09', 32)).toBe('Ada'); // full-width brackets
    expect(displayName('(you) and me', 32)).toBe('(you) and me');
  });

  it('cuts at max code points without splitting one, and gives undefined for nothing left', () => {
    expect(displayName('🙂'.repeat(40), 32)).toBe('🙂'.repeat(32));
    expect(displayName('\u200b \u202e (you)', 32)).toBeUndefined();
    expect(displayName('', 32)).toBeUndefined();
  });

  it('the game lobby shows a hostile name as plain text, and a blank one by its id', async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 1, clock, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map((peerId) => net.join('lobby-names', { peerId }));
    await net.advance(2000);
    const la = new Lobby(a!, 'Ada');
    const lb = new Lobby(b!, '\u202eAda (you)');
    await net.advance(500);
    expect(la.nameOf('b')).toBe('Ada');
    lb.set({ name: '\u200b\u200b' });
    await net.advance(500);
    expect(la.nameOf('b')).toBe('b');
    la.close();
    lb.close();
    await Promise.all([a!.leave(), b!.leave()]);
  });
});
