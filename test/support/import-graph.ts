/**
 * The import graph of the repository's TypeScript: which file imports which, resolved the way Node resolves
 * them for these sources (relative paths, the package's own 'iomux/…' exports and '#internal/…' imports, both
 * mapped back from dist/ to src/), and the cycles in it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { PACKAGE_ROOT } from './children.js';

/** Every .ts file under `dir` (absolute paths). */
export function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The specifiers of every static import/export-from and dynamic import() of a source, comments stripped. */
export function specifiersOf(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const re = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...text.matchAll(re)].map((m) => (m[1] ?? m[2])!);
}

const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { default?: string }>;
};

/** dist/x/y.js → src/x/y.ts: the package's own modules are the sources they are built from. */
function fromDist(path: string): string {
  return join(PACKAGE_ROOT, path.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
}

/** The repository file a specifier of `file` names, or undefined for node: builtins and other packages. */
export function resolveImport(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) return normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts');
  if (specifier.startsWith('#internal/')) return fromDist(`./dist/${specifier.slice('#internal/'.length)}`);
  if (specifier === 'iomux' || specifier.startsWith('iomux/')) {
    const entry = pkg.exports[`.${specifier.slice('iomux'.length)}`];
    const target = typeof entry === 'string' ? entry : entry?.default;
    return target?.startsWith('./dist/') ? fromDist(target) : undefined;
  }
  return undefined;
}

/** file → the repository files it imports (type-only imports included: they are still a dependency to read). */
export function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = specifiersOf(readFileSync(file, 'utf8')).map((s) => resolveImport(file, s));
    graph.set(file, [...new Set(targets.filter((t): t is string => t !== undefined))]);
  }
  return graph;
}

/**
 * The cycles of a graph as its strongly connected components of more than one file (or a file importing
 * itself), each sorted, paths relative to the package root; Tarjan's algorithm.
 */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) {
      cycles.push(component.map((f) => relative(PACKAGE_ROOT, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}
