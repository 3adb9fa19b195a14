/**
 * The API reference (docs/api/, `npm run docs`): regenerated here into a temporary directory it must equal
 * the committed pages byte for byte (so a doc comment changed without `npm run docs` fails); every export of
 * every package.json subpath, types included (read from the shipped declarations with the TypeScript
 * compiler), has a heading on its subpath's page; and every `@python` tag names something Python has, so
 * each link to docs.python.org points at a documented object. No network: the Python check asks the local
 * python3.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import ts from 'typescript';
import { PACKAGE_ROOT, runNode } from './support/children.js';

const API = join(PACKAGE_ROOT, 'docs', 'api');
const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { types: string; default: string }>;
};
const tmp = mkdtempSync(join(tmpdir(), 'iomux-docs-api-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(dir, p)).isFile()).sort();
}

/** The subpaths of package.json's exports with their declaration file and their page under docs/api. */
function subpaths(): Array<{ specifier: string; types: string; page: string }> {
  return Object.entries(pkg.exports).flatMap(([key, target]) => {
    if (typeof target === 'string') return [];
    const specifier = key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    return [{ specifier, types: join(PACKAGE_ROOT, target.types), page: join(API, `${specifier}.md`) }];
  });
}

/** The names a declaration file exports, values and types alike. */
function exportedNames(program: ts.Program, file: string): string[] {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  assert.ok(source, file);
  const module = checker.getSymbolAtLocation(source);
  assert.ok(module, `${file} is a module`);
  return checker.getExportsOfModule(module).map((s) => s.name).sort();
}

/**
 * The names a page has a heading for: "### `abstract` BaseSelector", "### epoll()", "### EPOLL\_CLOEXEC"
 * (typedoc-plugin-markdown escapes underscores and marks functions and modifiers).
 */
function headings(page: string): Set<string> {
  const names = new Set<string>();
  for (const m of readFileSync(page, 'utf8').matchAll(/^#{2,4} (.+)$/gm)) {
    names.add(m[1]!.replace(/\\/g, '').replace(/`[^`]*` /g, '').replace(/\(\)$/, '').trim());
  }
  return names;
}

describe('docs/api', () => {
  test('is what `npm run docs` generates from the doc comments now', { timeout: 180_000 }, async () => {
    const out = join(tmp, 'api');
    const r = await runNode([join(PACKAGE_ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--options', 'typedoc.config.mjs', '--out', out], {
      cwd: PACKAGE_ROOT,
      timeoutMs: 170_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /\[warning\]/, 'TypeDoc warns: a public type refers to one that is not documented');
    const generated = filesUnder(out);
    assert.deepEqual(filesUnder(API), generated, 'docs/api has other pages than npm run docs makes: run npm run docs');
    const stale = generated.filter((p) => readFileSync(join(out, p), 'utf8') !== readFileSync(join(API, p), 'utf8'));
    assert.deepEqual(stale, [], 'these pages differ from the doc comments: run npm run docs');
  });

  test('names every export of every subpath on its page', () => {
    const entries = subpaths();
    assert.ok(entries.length >= 7, 'the subpaths of package.json exports');
    const program = ts.createProgram(entries.map((e) => e.types), { strict: true, skipLibCheck: true, types: [] });
    const missing: string[] = [];
    for (const { specifier, types, page } of entries) {
      assert.ok(existsSync(page), `${relative(PACKAGE_ROOT, page)} is missing: the subpath's entry file needs \`@module ${specifier}\` in its first doc comment, then npm run docs`);
      const shown = headings(page);
      const names = exportedNames(program, types);
      assert.ok(names.length > 0, specifier);
      for (const name of names) if (!shown.has(name)) missing.push(`${specifier}: ${name} (${relative(PACKAGE_ROOT, page)})`);
    }
    assert.deepEqual(missing, []);
  });

  test('every @python tag names an object of Python\'s modules, and its page links to it', () => {
    const tags = new Map<string, string>();
    const walk = (dir: string): void => {
      for (const p of filesUnder(dir).filter((f) => f.endsWith('.ts'))) {
        for (const m of readFileSync(join(dir, p), 'utf8').matchAll(/@python (\S+)/g)) tags.set(m[1]!, `src/${p}`);
      }
    };
    walk(join(PACKAGE_ROOT, 'src'));
    assert.ok(tags.size > 100, `${tags.size} @python tags`);
    // Python objects the local python3 may lack: kqueue exists only on the BSDs and macOS, os.timerfd_* from 3.13.
    const elsewhere = /^(select\.(kqueue|kevent)|selectors\.KqueueSelector)(\.|$)|^os\.timerfd_/;
    const script = `
import sys, builtins, importlib, asyncio, select
missing = []
for name in sys.argv[1:]:
    parts = name.split('.')
    if parts[0] == 'asyncio' and parts[1] == 'loop':
        obj, rest = asyncio.AbstractEventLoop, parts[2:]
    elif parts[0][0].isupper():
        obj, rest = builtins, parts
    else:
        obj, rest = importlib.import_module(parts[0]), parts[1:]
    for i, p in enumerate(rest):
        if not hasattr(obj, p):
            missing.append(name); break
        obj = getattr(obj, p)
        if obj is select.poll and i < len(rest) - 1: obj = select.poll()
print('\\n'.join(missing))`;
    const r = spawnSync('python3', ['-c', script, ...tags.keys()], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const missing = r.stdout.split('\n').filter((n) => n !== '' && !elsewhere.test(n));
    assert.deepEqual(missing.map((n) => `${tags.get(n)}: @python ${n}`), []);
    const pages = filesUnder(API).map((p) => readFileSync(join(API, p), 'utf8')).join('\n');
    for (const name of tags.keys()) {
      assert.ok(pages.includes(`#${name})`), `docs/api links to the Python docs of ${name}`);
    }
  });
});
