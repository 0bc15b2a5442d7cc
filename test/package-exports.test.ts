import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The docs' examples import what the package really exports: every
 * `import { ... } from 'meshparty...'` in README.md and docs/ names an entry point of
 * package.json's `exports`, and every name it imports is exported there. Each entry point
 * is loaded the way an app loads it, by package name in a Node process of its own
 * (a package can import itself by name), not through this repository's paths.
 */
const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string> };
const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Named imports from this package in the docs, by specifier. */
function documentedImports(): Map<string, Set<string>> {
  const bySpecifier = new Map<string, Set<string>>();
  const pattern = new RegExp(`^import\\s*\\{([^}]*)\\}\\s*from\\s*'(${pkg.name}(?:/[^']*)?)'`, 'gm');
  for (const file of docs) {
    for (const [, names, specifier] of readFileSync(join(root, file), 'utf8').matchAll(pattern)) {
      const set = bySpecifier.get(specifier!) ?? new Set<string>();
      for (const name of names!.split(',')) if (name.trim()) set.add(name.trim().split(/\s+as\s+/)[0]!);
      bySpecifier.set(specifier!, set);
    }
  }
  return bySpecifier;
}

/** What `specifier` exports when a Node process imports it by package name. */
function exportsOf(specifier: string): string[] {
  const script = `const m = await import(${JSON.stringify(specifier)}); process.stdout.write(JSON.stringify(Object.keys(m)));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(out) as string[];
}

describe('package entry points', () => {
  const imports = documentedImports();

  it('the docs import from this package in several places', () => {
    // A broken pattern would find nothing and pass everything below.
    expect([...imports.keys()]).toEqual(expect.arrayContaining([pkg.name, `${pkg.name}/keeper`]));
  });

  it.each([...imports.keys()])('%s is an entry point with every name the docs import from it', (specifier) => {
    const subpath = '.' + specifier.slice(pkg.name.length);
    expect(Object.keys(pkg.exports), `${specifier} is not in package.json exports`).toContain(subpath);
    const exported = exportsOf(specifier);
    for (const name of imports.get(specifier)!) expect(exported, `${specifier} has no export ${name}`).toContain(name);
  });

  it('the README table names each entry point and what it exports', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('`createKeeper` (`meshparty/keeper`)');
    expect(exportsOf(`${pkg.name}/keeper`)).toContain('createKeeper');
    expect(readme).toContain('`createRoomToken` (`meshparty/relay`)');
    expect(exportsOf(`${pkg.name}/relay`)).toEqual(expect.arrayContaining(['createSignalingServer', 'createRoomToken']));
  });
});
