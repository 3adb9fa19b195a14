/**
 * Docs a reader can check: README, CHANGELOG and docs/ name no file the reader does not have, every command
 * they name exists (npm scripts, iomux commands, the repository's bench commands, the examples), the quick
 * ones run, and the hand-written summary in README agrees with the generated scaling table it quotes.
 * (bench:syscalls runs in bench-syscalls.test.ts, the examples in loop-examples / echo-server-example,
 * `npx iomux` from an installed tarball in package.test.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { PACKAGE_ROOT, runNode } from './support/children.js';

const DOCS = ['README.md', 'CHANGELOG.md', 'SECURITY.md', ...readdirSync(join(PACKAGE_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
/** The generated API reference: its links and anchors are checked too, its text is TypeDoc's. */
const API_DOCS = readdirSync(join(PACKAGE_ROOT, 'docs', 'api'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/api/${f}`);
const read = (file: string): string => readFileSync(join(PACKAGE_ROOT, file), 'utf8');
const CLI = join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');
const BENCH = join(PACKAGE_ROOT, 'build', 'bench', 'main.js');

/**
 * The anchors GitHub gives a markdown file: each heading's text (markup removed) lower-cased, with what is
 * not a letter, digit, `-`, `_` or space dropped and spaces turned into `-`, a repeated one suffixed -1, -2, …
 * (github-slugger's rules); plus explicit `<a id>`/`<a name>` anchors. Headings inside code blocks do not count.
 */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.matchAll(/<a (?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!
      .replace(/<[^>]*>/g, '')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\\(.)/g, '$1')
      .replace(/`/g, '')
      .trim();
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The command names a `--help` listing shows ("  name  summary" lines under "commands:"). */
async function listedCommands(main: string): Promise<Set<string>> {
  const r = await runNode([main, '--help']);
  assert.equal(r.code, 0, r.stderr);
  return new Set([...r.stdout.split('commands:\n')[1]!.matchAll(/^ {2}(\S+) /gm)].map((m) => m[1]!));
}

/**
 * Every match of `re` (its first group) in every doc but the changelog (which tells of commands that were),
 * with where it was found.
 */
function mentions(re: RegExp): Array<{ file: string; value: string }> {
  // A ```json block is a record of what ran (benchmarks.md's raw data), not a command to run now.
  const current = (file: string): string => read(file).replace(/^```json\n[^]*?^```$/gm, '');
  return DOCS.filter((f) => f !== 'CHANGELOG.md').flatMap((file) => [...current(file).matchAll(re)].map((m) => ({ file, value: m[1]! })));
}

describe('the docs', () => {
  test('name no file the reader does not have, and every local link resolves, #anchor included', () => {
    const problems: string[] = [];
    const anchors = new Map<string, Set<string>>();
    const anchorsIn = (file: string): Set<string> => {
      if (!anchors.has(file)) anchors.set(file, anchorsOf(read(file)));
      return anchors.get(file)!;
    };
    for (const file of [...DOCS, ...API_DOCS]) {
      const text = read(file);
      if (!file.startsWith('docs/api/')) {
        for (const m of text.matchAll(/ANCHORS\.md|ecosystem[- ]notes|\bissue \d+/gi)) problems.push(`${file}: "${m[0]}"`);
      }
      // Links outside code blocks and inline code (a `](x)` in a code sample is not a link).
      const prose = text.replace(/^\s*```[^]*?^\s*```/gm, '').replace(/`[^`\n]*`/g, '');
      for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        const [path, anchor] = m[1]!.split('#') as [string, string | undefined];
        if (/^[a-z]+:/.test(path)) continue;
        const target = path === '' ? file : join(dirname(file), path);
        if (!existsSync(join(PACKAGE_ROOT, target))) {
          problems.push(`${file}: link to ${m[1]} does not resolve`);
        } else if (anchor !== undefined && target.endsWith('.md') && !anchorsIn(target).has(decodeURIComponent(anchor))) {
          problems.push(`${file}: link to ${m[1]}: ${target} has no heading or anchor "${anchor}"`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  test('every command they name exists', async () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const iomux = await listedCommands(CLI);
    const bench = await listedCommands(BENCH);
    const problems: string[] = [];
    for (const { file, value } of mentions(/\bnpm run ([\w:-]+)/g)) {
      if (!(value in pkg.scripts)) problems.push(`${file}: npm run ${value}`);
    }
    for (const { file, value } of mentions(/`(?:bench:|npm run bench:)?(scaling|syscalls)`/g)) {
      if (!(`bench:${value}` in pkg.scripts)) problems.push(`${file}: bench:${value}`);
    }
    for (const { file, value } of mentions(/(?:\biomux|node dist\/cli\/main\.js) ([a-z][\w-]*)/g)) {
      // "iomux is …", "iomux's …" in prose are not commands; a command is followed by an option or a space.
      if (!iomux.has(value) && /^(echo|slow|demo|bench)/.test(value)) problems.push(`${file}: iomux ${value}`);
    }
    for (const { file, value } of mentions(/node build\/bench\/main\.js ([a-z][a-z-]*)/g)) {
      if (!bench.has(value)) problems.push(`${file}: node build/bench/main.js ${value}`);
    }
    // The bench tools run through their entry point; their other modules are not scripts.
    for (const { file, value } of mentions(/node build\/bench\/([\w-]+)\.js/g)) {
      if (value !== 'main') problems.push(`${file}: node build/bench/${value}.js (run node build/bench/main.js <command>)`);
    }
    for (const { file, value } of mentions(/build\/examples\/([\w-]+)\.js/g)) {
      if (!existsSync(join(PACKAGE_ROOT, 'examples', `${value}.ts`))) problems.push(`${file}: examples/${value}.ts`);
    }
    assert.deepEqual(problems, []);
    // The iomux commands and bench commands the docs name all answer --help.
    for (const cmd of iomux) {
      const r = await runNode([CLI, cmd, '--help']);
      assert.equal(r.code, 0, `iomux ${cmd} --help: ${r.stderr}`);
    }
    for (const cmd of bench) {
      const r = await runNode([BENCH, cmd, '--help']);
      assert.equal(r.code, 0, `bench ${cmd} --help: ${r.stderr}`);
    }
  });

  test('npm run demo, as the scripts define it, runs to its end', async () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.demo, 'node dist/cli/main.js demo');
    const r = await runNode([CLI, 'demo'], { cwd: PACKAGE_ROOT });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /served 3 connections \(0 refused\), echoed 140 bytes/);
  });

  test("README's scaling figures are the generated table's in docs/benchmarks.md", () => {
    const doc = read('docs/benchmarks.md');
    const table = /<!-- BEGIN GENERATED scaling[^]*?\| watched fds \|[^\n]*\n[^\n]*\n((?:\|[^\n]*\n)+)/.exec(doc);
    assert.ok(table, 'the generated scaling table');
    const epoll = table[1]!.trim().split('\n').map((row) => Number(row.split('|')[4]!.trim().replace(/,/g, '')));
    const range = `${Math.min(...epoll).toFixed(2)}–${Math.max(...epoll).toFixed(2)} µs`;
    assert.match(read('README.md'), new RegExp(`epoll wait costing ${range}`), `README should quote ${range}`);
    assert.match(doc, new RegExp(`epoll's wait costs ${range} of CPU`), `the hand-written scaling paragraph should quote ${range}`);
    const slope = /poll grows roughly linearly with the watched fds \| log-log slope ([\d.]+) from N = 100 to 10,000/.exec(doc);
    assert.ok(slope, 'the generated poll verdict');
    assert.match(doc, new RegExp(`poll's grows with log-log slope ${slope[1]!.replace('.', '\\.')} from 100 to 10,000 fds`));
  });
});
