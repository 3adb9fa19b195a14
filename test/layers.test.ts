/**
 * The layering of src/, as docs/architecture.md's "What may import what" table states it: the table is parsed
 * from the doc and every import of every src/ file is checked against it. And the platform boundary: nothing
 * above src/sys/ reads process.platform/process.arch, imports a platform folder or koffi, or spells a C
 * constant's value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { PACKAGE_ROOT } from './support/children.js';

const SRC = join(PACKAGE_ROOT, 'src');
const PLATFORM_DIRS = ['linux', 'darwin', 'freebsd'];
/**
 * A C constant's value spelled out where a constant is declared or a property set — `const EAGAIN = 11`,
 * `{ AF_INET6: 10 }`, `SOCK_CLOEXEC = 0o2000000` — but not a ternary's `? EPOLLIN : 0`.
 */
const CONSTANT_VALUE =
  /(?:\b(?:const|let|var)\s+|^\s*|[{,]\s*)((?:AF|PF|SOCK|SOL|SO|IPPROTO|IPV6|TCP|MSG|SHUT|AI|NI|EAI|POLL|EPOLL|KQ|EV|EVFILT|NOTE|F|FD|O|RLIMIT|SCM)_[A-Z0-9_]+|E[A-Z0-9]{3,})\s*[:=]\s*-?(?:0[xXoObB])?[0-9]/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The layer of a src/ file: `select/` for a folder, `errors` for a top-level file; platform folders are `sys/`. */
function moduleOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, '') : `${parts[0]}/`;
}

interface Import {
  specifier: string;
  typeOnly: boolean;
  line: number;
}

/** Every static import/export-from and dynamic import() of a file, comments stripped. */
function importsOf(source: string): Import[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');
  const out: Import[] = [];
  const re = /\b(import|export)\s+(type\s+)?(?:[\w*{}\s,$]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ specifier: (m[3] ?? m[4])!, typeOnly: m[2] !== undefined, line });
  }
  return out;
}

interface Rule {
  allowed: Set<string>;
  typeOnly: Set<string>;
}

/** The "What may import what" table of docs/architecture.md. */
function layeringTable(): Map<string, Rule> {
  const doc = readFileSync(join(PACKAGE_ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = doc.split('## What may import what')[1]?.split('\n## ')[0];
  assert.ok(section, 'docs/architecture.md has a "What may import what" section');
  const rules = new Map<string, Rule>();
  for (const row of section.split('\n').filter((l) => /^\| `/.test(l))) {
    const [, mod, may] = row.split('|').map((c) => c.trim());
    const rule: Rule = { allowed: new Set(), typeOnly: new Set() };
    for (const m of may!.matchAll(/(type-only\s+)?`([^`]+)`/g)) (m[1] ? rule.typeOnly : rule.allowed).add(m[2]!);
    rules.set(mod!.replace(/`/g, ''), rule);
  }
  return rules;
}

function targetOf(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier.startsWith('node:') ? 'node:*' : specifier;
  return moduleOf(normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts'));
}

test('the layering table is parsed from docs/architecture.md and covers every module of src/', () => {
  const rules = layeringTable();
  assert.ok(rules.size >= 10, `${rules.size} rows`);
  const modules = new Set(sourceFiles(SRC).map(moduleOf));
  for (const mod of modules) assert.ok(rules.has(mod), `docs/architecture.md's table has no row for ${mod}`);
  assert.deepEqual([...rules.get('sys/')!.allowed].sort(), ['koffi', 'node:*', 'sys/']);
});

test('every import in src/ is one the table allows', () => {
  const rules = layeringTable();
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = moduleOf(file);
    const rule = rules.get(from)!;
    for (const imp of importsOf(readFileSync(file, 'utf8'))) {
      const to = targetOf(file, imp.specifier);
      if (to === from) continue;
      if (rule.allowed.has(to) || (imp.typeOnly && rule.typeOnly.has(to))) continue;
      violations.push(`${relative(PACKAGE_ROOT, file)}:${imp.line} (${from}) imports ${imp.specifier} (${to}${imp.typeOnly ? ', type-only' : ''})`);
    }
  }
  assert.deepEqual(violations, [], 'imports the table in docs/architecture.md does not allow');
});

test('the import parser sees static, type-only, re-export and dynamic imports', () => {
  const found = importsOf([
    "import { a } from './a.js';",
    "import type { B } from '../b/index.js';",
    "export * from './c.js';",
    "export { d } from './d.js';",
    "const e = await import('./e.js');",
    "import './f.js';",
    "// import { no } from './comment.js';",
  ].join('\n'));
  assert.deepEqual(found.map((i) => [i.specifier, i.typeOnly]), [
    ['./a.js', false], ['../b/index.js', true], ['./c.js', false], ['./d.js', false], ['./e.js', false], ['./f.js', false],
  ]);
});

test('no platform value or platform branch above src/sys/', () => {
  const problems: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const rel = relative(SRC, file);
    const source = readFileSync(file, 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
    const inSys = rel.startsWith(`sys${sep}`);
    if (rel !== join('sys', 'platform.ts') && /process\s*\.\s*(platform|arch)\b/.test(code)) {
      problems.push(`${rel} reads process.platform/process.arch (only sys/platform.ts may)`);
    }
    if (!inSys) {
      for (const imp of importsOf(source)) {
        if (imp.specifier === 'koffi') problems.push(`${rel}:${imp.line} imports koffi`);
        if (PLATFORM_DIRS.some((p) => new RegExp(`(^|/)sys/${p}(/|$)`).test(imp.specifier))) {
          problems.push(`${rel}:${imp.line} imports a platform folder (${imp.specifier})`);
        }
      }
      // A C constant's value spelled out: `EAGAIN = 11`, `AF_INET6: 10`, `SOCK_CLOEXEC = 0o2000000`, …
      for (const m of code.matchAll(CONSTANT_VALUE)) problems.push(`${rel} spells the value of ${m[1]}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the platform-value check catches what it is meant to', () => {
  const constant = new RegExp(CONSTANT_VALUE.source, 'm');
  for (const bad of ['const EAGAIN = 11;', 'AF_INET6: 10,', 'export const SOCK_CLOEXEC = 0o2000000;', 'MSG_NOSIGNAL=0x4000']) {
    assert.match(bad, constant, bad);
  }
  for (const fine of ['const EVENT_READ = 1;', 'export const SOCK_STREAM = C.SOCK_STREAM;', 'if (e === ERRNO.EAGAIN)',
    'return events & EVENT_READ ? EPOLLIN : 0;']) {
    assert.doesNotMatch(fine, constant, fine);
  }
});
