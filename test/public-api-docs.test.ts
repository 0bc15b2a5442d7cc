import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Every name an app can import from this package carries TSDoc with a short example
 * (the project's rule for its public API). Read through the TypeScript compiler, so a
 * re-export (`export { x } from`, `export *`) is followed to the declaration's own doc.
 */
const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string> };
const entryPoints = Object.values(pkg.exports).filter((p) => p.endsWith('.ts')).map((p) => join(root, p));

/** Each exported name of each entry point, with what its documentation lacks (empty: nothing). */
function undocumentedExports(): { checked: number; gaps: string[] } {
  const program = ts.createProgram(entryPoints, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const gaps: string[] = [];
  let checked = 0;
  for (const file of entryPoints) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const where = `${file.slice(root.length + 1)}: ${exported.name}`;
      checked++;
      if (!ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim()) gaps.push(`${where} has no TSDoc`);
      else if (!symbol.getJsDocTags(checker).some((t) => t.name === 'example')) gaps.push(`${where} has no @example`);
    }
  }
  return { checked, gaps };
}

describe('public API documentation', () => {
  it('every export of every entry point has TSDoc with an @example', () => {
    const { checked, gaps } = undocumentedExports();
    // A broken walk would find nothing and pass: the root entry point alone exports dozens.
    expect(checked).toBeGreaterThan(80);
    expect(gaps).toEqual([]);
  }, 60_000);
});
