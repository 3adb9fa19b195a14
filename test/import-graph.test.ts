/**
 * The import graph of src/ and bench/: no cycle (a module's imports form a tree one can read bottom-up; type-only
 * imports count too, they still make one file's meaning depend on the other's), and the benchmark tools reach
 * into src/ only for what they measure, never into the CLI's internals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { PACKAGE_ROOT } from './support/children.js';
import { importCycles, importGraph, resolveImport, tsFiles } from './support/import-graph.js';

/** Cycles known and being removed; each entry must match a cycle exactly, so a grown cycle still fails. */
const KNOWN_CYCLES: string[][] = [];

const key = (cycle: readonly string[]): string => cycle.join(' ↔ ');

test('no import cycle among the modules of src/', () => {
  const cycles = importCycles(importGraph(tsFiles(join(PACKAGE_ROOT, 'src'))));
  const known = new Set(KNOWN_CYCLES.map(key));
  assert.deepEqual(cycles.map(key).filter((c) => !known.has(c)), []);
});

test('no import cycle among the modules of bench/ (with the src/ modules they import)', () => {
  const files = [...tsFiles(join(PACKAGE_ROOT, 'bench')), ...tsFiles(join(PACKAGE_ROOT, 'src'))];
  const known = new Set(KNOWN_CYCLES.map(key));
  assert.deepEqual(importCycles(importGraph(files)).map(key).filter((c) => !known.has(c)), []);
});

test("bench/ imports no module of src/cli/ (the CLI's internals; the command-line framework is src/cmdline/)", () => {
  const bench = tsFiles(join(PACKAGE_ROOT, 'bench'));
  const problems: string[] = [];
  for (const [file, targets] of importGraph(bench)) {
    for (const target of targets.map((t) => relative(PACKAGE_ROOT, t))) {
      if (target.startsWith('src/cli/')) {
        problems.push(`${relative(PACKAGE_ROOT, file)} imports ${target}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('the cycle finder finds a cycle of two, of three and a self-import, and nothing in a tree', () => {
  const f = (name: string): string => join(PACKAGE_ROOT, 'x', name);
  const graph = new Map([
    [f('a'), [f('b')]], [f('b'), [f('a'), f('c')]], // a ↔ b
    [f('c'), [f('d')]], [f('d'), [f('e')]], [f('e'), [f('c')]], // c → d → e → c
    [f('s'), [f('s')]], // s imports itself
    [f('t'), [f('a'), f('u')]], [f('u'), []], // a tree hanging off the cycle
  ]);
  assert.deepEqual(importCycles(graph).map(key).sort(), ['x/a ↔ x/b', 'x/c ↔ x/d ↔ x/e', 'x/s']);
  assert.deepEqual(importCycles(new Map([[f('t'), [f('u')]], [f('u'), []]])), []);
});

test('imports resolve as Node resolves them: relative, #internal/ and iomux/ to src/, others to nothing', () => {
  const from = join(PACKAGE_ROOT, 'bench', 'main.ts');
  assert.equal(resolveImport(from, './plot.js'), join(PACKAGE_ROOT, 'bench', 'plot.ts'));
  assert.equal(resolveImport(from, '#internal/load/proc.js'), join(PACKAGE_ROOT, 'src', 'load', 'proc.ts'));
  assert.equal(resolveImport(from, 'iomux/select'), join(PACKAGE_ROOT, 'src', 'select', 'index.ts'));
  assert.equal(resolveImport(from, 'iomux/os'), join(PACKAGE_ROOT, 'src', 'os.ts'));
  assert.equal(resolveImport(from, 'node:fs'), undefined);
  assert.equal(resolveImport(from, 'vega'), undefined);
});
