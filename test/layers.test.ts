import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Imports flow one way (../shared/DESIGN.md): a file may import its own layer or one
 * below it, never one above. Sibling upper layers (yjs, lockstep, media) do not import
 * each other.
 */
const root = resolve(import.meta.dirname, '..');
const RANK: Record<string, number> = {
  'src/util': 0,
  'src/signaling-client': 1,
  'src/transport': 2,
  'src/mesh': 3,
  'src/media': 4,
  'src/yjs': 4,
  'src/lockstep': 4,
  'src/index': 5,
  signaling: 6,
  demos: 7,
};

function layerOf(file: string): string | undefined {
  const rel = relative(root, file).replaceAll('\\', '/');
  if (/^src\/[^/]+\.ts$/.test(rel)) return 'src/index';
  const parts = rel.split('/');
  const key = parts[0] === 'src' ? `src/${parts[1]}` : parts[0]!;
  return key in RANK ? key : undefined;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('layering', () => {
  it('no file imports a layer above its own (or a sibling upper layer)', () => {
    const files = ['src', 'signaling', 'demos'].flatMap((d) => tsFiles(join(root, d)));
    expect(files.length).toBeGreaterThan(50);
    const violations: string[] = [];
    const spec = /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
    for (const file of files) {
      const from = layerOf(file)!;
      for (const m of readFileSync(file, 'utf8').matchAll(spec)) {
        const target = resolve(dirname(file), m[1] ?? m[2]!);
        const to = layerOf(target);
        if (!to || to === from) continue;
        const up = RANK[to]! > RANK[from]!;
        const sideways = RANK[to] === RANK[from];
        if (up || sideways) violations.push(`${relative(root, file)} -> ${relative(root, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
