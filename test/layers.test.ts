/**
 * The layering of src/, as docs/architecture.md's "What may import what" table states it: the table is parsed
 * from the doc and every import of every src/ file is checked against it, "only" clauses included. And the
 * platform boundary: nothing above src/sys/ reads process.platform/process.arch, imports a platform folder or
 * koffi, or spells a C constant's value; a platform is one folder, one table entry and its test copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { PACKAGE_ROOT } from './support/children.js';

const SRC = join(PACKAGE_ROOT, 'src');
/** The platform folders: the folders of src/sys/ (each one platform, its index.ts exporting its entry). */
const PLATFORM_DIRS = readdirSync(join(SRC, 'sys')).filter((name) => statSync(join(SRC, 'sys', name)).isDirectory());
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
  /**
   * A module allowed with an "(only …)" clause, and what the clause lists: the files of it (`socket/args`) or
   * the Node built-ins (`node:perf_hooks`) that alone may be imported.
   */
  only: Map<string, Set<string>>;
}

/**
 * One row's "may import" cell: `module` entries, `type-only` ones, and a parenthesis after an entry that, when
 * it starts with "only", restricts that entry to the targets it names (other parentheses are explanations).
 */
function parseRule(cell: string): Rule {
  const rule: Rule = { allowed: new Set(), typeOnly: new Set(), only: new Map() };
  for (const m of cell.matchAll(/(type-only\s+)?`([^`]+)`(?:\s*\(([^)]*)\))?/g)) {
    const [, typeOnly, mod, note] = m;
    (typeOnly ? rule.typeOnly : rule.allowed).add(mod!);
    if (note !== undefined && /^only\b/.test(note.trim())) {
      const targets = [...note.matchAll(/`([^`]+)`/g)].map((t) => t[1]!).filter((t) => t.startsWith('node:') || t.includes('/'));
      assert.ok(targets.length > 0, `the "only" clause of ${mod} names no file or built-in: (${note})`);
      rule.only.set(mod!, new Set(targets));
    }
  }
  return rule;
}

/** The "What may import what" table of docs/architecture.md. */
function layeringTable(): Map<string, Rule> {
  const doc = readFileSync(join(PACKAGE_ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = doc.split('## What may import what')[1]?.split('\n## ')[0];
  assert.ok(section, 'docs/architecture.md has a "What may import what" section');
  const rules = new Map<string, Rule>();
  for (const row of section.split('\n').filter((l) => /^\| `/.test(l))) {
    const [, mod, may] = row.split('|').map((c) => c.trim());
    rules.set(mod!.replace(/`/g, ''), parseRule(may!));
  }
  return rules;
}

/** The module an import reaches (`select/`, `errors`, `node:*`, `koffi`), and the precise target an "only" clause names. */
function targetOf(file: string, specifier: string): { module: string; precise: string } {
  if (!specifier.startsWith('.')) return { module: specifier.startsWith('node:') ? 'node:*' : specifier, precise: specifier };
  const path = normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts');
  return { module: moduleOf(path), precise: relative(SRC, path).split(sep).join('/').replace(/\.ts$/, '') };
}

/** What the table forbids among a file's imports. */
function violationsOf(file: string, imports: Import[], rules: Map<string, Rule>): string[] {
  const from = moduleOf(file);
  const rule = rules.get(from)!;
  const out: string[] = [];
  for (const imp of imports) {
    const to = targetOf(file, imp.specifier);
    if (to.module === from) continue;
    const where = `${relative(PACKAGE_ROOT, file)}:${imp.line} (${from}) imports ${imp.specifier}`;
    if (!rule.allowed.has(to.module) && !(imp.typeOnly && rule.typeOnly.has(to.module))) {
      out.push(`${where} (${to.module}${imp.typeOnly ? ', type-only' : ''})`);
      continue;
    }
    const only = rule.only.get(to.module);
    if (only !== undefined && !only.has(to.precise)) out.push(`${where} (${to.module} only as ${[...only].join(', ')})`);
  }
  return out;
}

test('the layering table is parsed from docs/architecture.md and covers every module of src/', () => {
  const rules = layeringTable();
  assert.ok(rules.size >= 10, `${rules.size} rows`);
  const modules = new Set(sourceFiles(SRC).map(moduleOf));
  for (const mod of modules) assert.ok(rules.has(mod), `docs/architecture.md's table has no row for ${mod}`);
  assert.deepEqual([...rules.get('sys/')!.allowed].sort(), ['koffi', 'node:*', 'sys/']);
});

test('every import in src/ is one the table allows, within its "only" clauses', () => {
  const rules = layeringTable();
  const violations = sourceFiles(SRC).flatMap((file) => violationsOf(file, importsOf(readFileSync(file, 'utf8')), rules));
  assert.deepEqual(violations, [], 'imports the table in docs/architecture.md does not allow');
});

test('the "only" clauses are parsed from the table and enforced per file', () => {
  const rules = layeringTable();
  assert.deepEqual([...rules.get('timeout')!.only.get('node:*')!], ['node:perf_hooks']);
  assert.deepEqual([...rules.get('uring/')!.only.get('socket/')!], ['socket/args']);
  // A parenthesis that does not start with "only" explains; it restricts nothing.
  assert.equal(rules.get('loop/')!.only.size, 0);
  const at = (path: string): string => join(SRC, ...path.split('/'));
  const imports = (...specifiers: string[]): Import[] => specifiers.map((specifier, i) => ({ specifier, typeOnly: false, line: i + 1 }));
  assert.deepEqual(violationsOf(at('timeout.ts'), imports('node:perf_hooks', './errors.js'), rules), []);
  assert.deepEqual(violationsOf(at('timeout.ts'), imports('node:fs'), rules), [
    'src/timeout.ts:1 (timeout) imports node:fs (node:* only as node:perf_hooks)',
  ]);
  assert.deepEqual(violationsOf(at('uring/ring.ts'), imports('../socket/args.js'), rules), []);
  assert.deepEqual(violationsOf(at('uring/ring.ts'), imports('../socket/socket.js', '../socket/index.js'), rules), [
    'src/uring/ring.ts:1 (uring/) imports ../socket/socket.js (socket/ only as socket/args)',
    'src/uring/ring.ts:2 (uring/) imports ../socket/index.js (socket/ only as socket/args)',
  ]);
  assert.deepEqual(violationsOf(at('server/listener.ts'), imports('../sys/socket.js'), rules), [
    'src/server/listener.ts:1 (server/) imports ../sys/socket.js (sys/)',
  ]);
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

test('a platform is one folder: its index.ts exports one Platform, one table entry chooses it, nothing native is loaded', () => {
  assert.deepEqual([...PLATFORM_DIRS].sort(), ['darwin', 'freebsd', 'linux']);
  const platformTs = readFileSync(join(SRC, 'sys', 'platform.ts'), 'utf8');
  const table = /const TABLE[^=]*=\s*\{([^}]*)\}/.exec(platformTs)?.[1];
  assert.ok(table, "sys/platform.ts has the table `const TABLE … = { … }`");
  assert.deepEqual(table.split(',').map((e) => e.trim()).filter(Boolean).sort(), [...PLATFORM_DIRS].sort());
  const os = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { os: string[] }).os;
  const copies = readFileSync(join(PACKAGE_ROOT, 'test', 'platform-tables.test.ts'), 'utf8');
  const problems: string[] = [];
  for (const name of PLATFORM_DIRS) {
    const dir = join(SRC, 'sys', name);
    const index = readFileSync(join(dir, 'index.ts'), 'utf8');
    if (!new RegExp(`export const ${name}: Platform = \\{ abi: \\w+, natives: \\w+ \\}`).test(index)) {
      problems.push(`sys/${name}/index.ts does not export \`const ${name}: Platform = { abi, natives }\``);
    }
    if (!platformTs.includes(`import { ${name} } from './${name}/index.js';`)) problems.push(`sys/platform.ts does not import sys/${name}/index.ts`);
    if (!os.includes(name)) problems.push(`package.json's os does not name ${name}`);
    if (!new RegExp(`^  ${name}: \\{ errno:`, 'm').test(copies)) problems.push(`test/platform-tables has no written-down copy for ${name}`);
    // Koffi is handed to the natives (NativeContext): a platform folder loads nothing native, so platform.ts
    // can refuse an unsupported platform before koffi loads.
    for (const file of sourceFiles(dir)) {
      for (const imp of importsOf(readFileSync(file, 'utf8'))) {
        const inSys = imp.specifier.startsWith('.') && normalize(join(dirname(file), imp.specifier)).startsWith(join(SRC, 'sys') + sep);
        if (!inSys && !imp.specifier.startsWith('node:')) problems.push(`${relative(SRC, file)}:${imp.line} imports ${imp.specifier}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
