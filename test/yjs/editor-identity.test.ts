/**
 * The editor demo's identity: y-codemirror.next keeps a remote cursor's label while its
 * colour string stays the same, so every person, and every rename, needs its own string.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/util/rng.js';
import { loadIdentity, nameSavedElsewhere, renamed, saveName } from '../../demos/editor/identity.js';
import { pageStorage } from '../../demos/shared/page-storage.js';

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
    clear: () => m.clear(),
    key: (i) => [...m.keys()][i] ?? null,
    get length() {
      return m.size;
    },
  };
}


const hueOf = (color: string) => Math.floor(Number(/hsl\(([\d.]+)/.exec(color)![1]));

describe('editor identity', () => {
  it('gives people who drew the same palette colour different colour strings', () => {
    const rng = createRng(7);
    const random = () => rng.next();
    const people = Array.from({ length: 200 }, () => loadIdentity(memoryStorage(), random));
    const byHue = new Map<number, string[]>();
    for (const p of people) byHue.set(hueOf(p.color), [...(byHue.get(hueOf(p.color)) ?? []), p.color]);
    // 200 people over 8 hues: some share one, none share a string.
    expect([...byHue.values()].some((colors) => colors.length > 1)).toBe(true);
    expect(new Set(people.map((p) => p.color)).size).toBe(200);
    for (const p of people) expect(p.colorLight).toBe(p.color.replace(')', ' / 0.2)'));
  });

  it('a rename keeps the hue but changes the colour string, and the name is remembered', () => {
    const storage = memoryStorage();
    const rng = createRng(8);
    const random = () => rng.next();
    const me = loadIdentity(storage, random);
    const next = renamed(me, 'Ada', random);
    expect(next.name).toBe('Ada');
    expect(hueOf(next.color)).toBe(hueOf(me.color));
    expect(next.color).not.toBe(me.color);
    saveName(storage, next.name);
    expect(loadIdentity(storage, random).name).toBe('Ada');
  });

  it('reads a saved name from another tab, and nothing from other storage changes', () => {
    const saved = memoryStorage();
    saveName(saved, 'Ada');
    const key = saved.key(0);
    expect(nameSavedElsewhere({ key, newValue: 'Ada' })).toBe('Ada');
    expect(nameSavedElsewhere({ key: 'other', newValue: 'Ada' })).toBeUndefined();
    expect(nameSavedElsewhere({ key, newValue: null })).toBeUndefined(); // removed
    expect(nameSavedElsewhere({ key: null, newValue: null })).toBeUndefined(); // cleared
  });

  it('goes without a storage the browser refuses: a new name, and a rename not remembered', () => {
    const refused = {
      get localStorage(): Storage {
        throw new DOMException('Access is denied for this document.', 'SecurityError');
      },
    };
    const none = pageStorage(refused);
    expect(none).toBeUndefined();
    expect(loadIdentity(none).name).toMatch(/^Guest \d{3}$/);
    const full = Object.assign(memoryStorage(), {
      setItem: () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
    });
    expect(() => saveName(full, 'Ada')).not.toThrow();
  });
});
