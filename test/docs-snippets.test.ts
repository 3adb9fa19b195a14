/**
 * Every TypeScript block of README.md and docs/*.md compiles under `strict`, as a consumer's module would:
 * each block is its own ES module (top-level `await` allowed), importing `iomux/...` through the package's
 * exports map from the built dist/ (node_modules/iomux is a link to this checkout), with @types/node.
 *
 * The convention, for writers of the docs:
 * - ```` ```ts ```` — a whole module: it must compile as it stands (declare what it assumes:
 *   `declare const sock: Socket;`).
 * - ```` ```ts fragment ```` — an excerpt that is not a program (an interface with `…` in it, a call shown
 *   out of context): shown as TypeScript, not compiled. Use it sparingly; the test lists how many there are.
 * docs/api/ is generated from the doc comments (its signatures are not programs) and is not read here.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import ts from 'typescript';
import { PACKAGE_ROOT } from './support/children.js';

interface Snippet {
  /** Where the block starts: "docs/loop.md:60". */
  where: string;
  info: string;
  code: string;
}

const DOCS = ['README.md', ...readdirSync(join(PACKAGE_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The fenced blocks of a markdown file whose info string starts with ts or typescript. */
function snippets(file: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = readFileSync(join(PACKAGE_ROOT, file), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    assert.ok(end > i, `${file}:${i + 1}: an unclosed code block`);
    const lang = open[2]!;
    if (lang === 'ts' || lang === 'typescript') {
      out.push({ where: `${file}:${i + 1}`, info: open[3]!.trim(), code: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'iomux-snippets-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('every ```ts block of README.md and docs/*.md compiles under strict against the built package', () => {
  const all = DOCS.flatMap(snippets);
  const unknownInfo = all.filter((s) => s.info !== '' && s.info !== 'fragment');
  assert.deepEqual(unknownInfo.map((s) => `${s.where}: \`\`\`ts ${s.info}`), [], 'a ts block is either whole or "fragment"');
  const whole = all.filter((s) => s.info === '');
  assert.ok(whole.length >= 6, `${whole.length} compiled blocks`);

  // A consumer project: ESM, iomux resolved through its package.json exports (dist/ must be built).
  mkdirSync(join(tmp, 'node_modules', '@types'), { recursive: true });
  symlinkSync(PACKAGE_ROOT, join(tmp, 'node_modules', 'iomux'), 'dir');
  symlinkSync(join(PACKAGE_ROOT, 'node_modules', '@types', 'node'), join(tmp, 'node_modules', '@types', 'node'), 'dir');
  writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
  const files = whole.map((s, i) => {
    const file = join(tmp, `snippet-${i}.ts`);
    // `export {}` makes each block a module of its own (no shared globals, top-level await allowed).
    writeFileSync(file, `${s.code}\nexport {};\n`);
    return file;
  });
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
    types: ['node'],
    typeRoots: [join(tmp, 'node_modules', '@types')],
    skipLibCheck: true,
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => {
    const index = d.file ? files.indexOf(d.file.fileName) : -1;
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (index < 0 || d.start === undefined) return `${d.file?.fileName ?? '(global)'}: ${text}`;
    const { line } = d.file!.getLineAndCharacterOfPosition(d.start);
    const [file, start] = whole[index]!.where.split(':');
    return `${file}:${Number(start) + 1 + line}: ${text}`;
  });
  assert.deepEqual(problems, []);
});
