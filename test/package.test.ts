/**
 * What `npm pack` ships, and that it works where it is installed: the file list is the library, the CLI, the
 * docs (with the API reference), the JavaScript examples, LICENSE and SECURITY.md (no benchmark suite, no
 * source maps without sources, no tests); no shipped module reaches a devDependency or the repository at
 * load; and a consumer project that installs the tarball (offline, from npm's cache, which `npm ci` fills)
 * runs the documented commands: `npx iomux --help`, the demo, an import and a require() of each subpath, a
 * strict TypeScript build against the shipped types, and every example as
 * `node node_modules/iomux/examples/NAME.js`, each ending by itself.
 *
 * The consumer's lockfile pins koffi (and its platform packages) as the repository's lockfile does: `npm ci`
 * caches their tarballs and install metadata but not the full registry documents `npm install` needs to
 * resolve a range, so without the pin an offline install works only where someone ran `npm install` before.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PACKAGE_ROOT, runNode, type ChildResult } from './support/children.js';
import { importRefusing } from './support/resolve-hooks.js';

interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson;
const tmp = mkdtempSync(join(tmpdir(), 'iomux-package-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The environment for npm and the consumer's processes: without the npm_* variables `npm test` sets (its
 * prefix, its config), so the nested npm works on the consumer project and nothing else.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

/** Runs `command args` in `cwd` to its end (killed after `timeoutMs`), collecting its output. */
function run(command: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

interface PackResult {
  filename: string;
  size: number;
  files: Array<{ path: string; size: number }>;
}

/** `npm pack --json` (scripts off: dist/ is already built, and rebuilding it would race other tests). */
async function pack(args: string[]): Promise<PackResult> {
  const r = await run('npm', ['pack', '--json', '--ignore-scripts', ...args], PACKAGE_ROOT);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as PackResult[])[0]!;
}

/** The paths the exports map and the bin name (without "./"). */
function declaredFiles(): string[] {
  const out = Object.values(pkg.bin).map((p) => p.replace(/^\.\//, ''));
  for (const target of Object.values(pkg.exports)) {
    for (const p of typeof target === 'string' ? [target] : [target.types, target.default]) out.push(p.replace(/^\.\//, ''));
  }
  return out;
}

/** The import specifiers of a JavaScript or declaration file: static, re-exports, side-effect and import(). */
function specifiers(source: string): string[] {
  const out: string[] = [];
  // Static forms are statements at the start of a line (so a string such as 'read from' : '…' is no import).
  const statics = [/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm];
  for (const re of [...statics, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of source.matchAll(re)) out.push(m[1]!);
  }
  return out;
}

/** A lockfile for the consumer project holding the repository's locked koffi and its platform packages. */
function consumerLock(): object {
  const lock = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  const packages: Record<string, unknown> = { '': { name: 'consumer', version: '1.0.0' } };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (Object.keys(pkg.dependencies).some((d) => path === `node_modules/${d}`) || path.startsWith('node_modules/@koromix/')) {
      packages[path] = entry;
    }
  }
  assert.ok(packages['node_modules/koffi'], 'koffi is in the repository\'s lockfile');
  return { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

const SUBPATHS = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));

describe('the package', () => {
  test('npm pack --dry-run ships the library, the CLI, the docs, the examples, LICENSE, README, CHANGELOG, SECURITY and nothing else', async () => {
    const { files } = await pack(['--dry-run']);
    const paths = files.map((f) => f.path).sort();
    const allowed = [
      /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|SECURITY\.md)$/,
      /^dist\/.+\.(js|d\.ts)$/,
      /^docs\/[^/]+\.md$/,
      /^docs\/api\/(iomux\/)?[^/]+\.md$/,
      /^examples\/[^/]+\.js$/,
      /^docs\/img\/[^/]+\.svg$/,
    ];
    assert.deepEqual(paths.filter((p) => !allowed.some((re) => re.test(p))), [], 'files outside the package shape');
    const examples = readdirSync(join(PACKAGE_ROOT, 'examples')).filter((f) => f.endsWith('.js')).map((f) => `examples/${f}`);
    assert.ok(examples.length >= 5, 'the JavaScript examples');
    for (const p of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'SECURITY.md', 'docs/api/iomux.md', 'dist/cli/main.js', ...declaredFiles(), ...examples]) {
      assert.ok(paths.includes(p), `${p} is missing from the tarball`);
    }
    // The benchmark suite and its report writers are development tools of the repository (bench/).
    assert.deepEqual(paths.filter((p) => /^dist\/bench\//.test(p)), []);
    // Every .js of the library has its .d.ts beside it (the examples are programs), and the CLI's commands are all there.
    const js = paths.filter((p) => p.endsWith('.js'));
    assert.deepEqual(js.filter((p) => p.startsWith('dist/') && !paths.includes(p.replace(/\.js$/, '.d.ts'))), []);
    for (const cmd of ['echo-server', 'echo-client', 'slow-client', 'demo', 'echo-bench']) {
      assert.ok(paths.includes(`dist/cli/commands/${cmd}.js`), cmd);
    }
    assert.ok(!paths.includes('dist/cli/commands/bench.js'));
    // Source maps ship with their sources or not at all: no maps, and no comment pointing at one.
    for (const p of js) {
      assert.doesNotMatch(readFileSync(join(PACKAGE_ROOT, p), 'utf8'), /sourceMappingURL/, p);
    }
  });

  test('no shipped module imports a devDependency or anything outside the package', async () => {
    const { files } = await pack(['--dry-run']);
    const shipped = new Set(files.map((f) => f.path));
    const code = [...shipped].filter((p) => p.endsWith('.js') || p.endsWith('.d.ts'));
    assert.ok(code.some((p) => p.startsWith('examples/')), 'the examples are checked too');
    const dev = Object.keys(pkg.devDependencies);
    const allowedBare = new Set([...Object.keys(pkg.dependencies), pkg.name]);
    const problems: string[] = [];
    for (const p of code) {
      const source = readFileSync(join(PACKAGE_ROOT, p), 'utf8');
      for (const s of specifiers(source)) {
        if (s.startsWith('node:')) continue;
        if (s.startsWith('.')) {
          const target = join(p, '..', s);
          // A declaration file imports './x.js' for the types in './x.d.ts'.
          const candidates = p.endsWith('.d.ts') ? [target, target.replace(/\.js$/, '.d.ts')] : [target];
          if (!candidates.some((c) => shipped.has(c))) problems.push(`${p}: '${s}' is not in the package`);
          continue;
        }
        const bare = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
        if (!allowedBare.has(bare)) problems.push(`${p}: '${s}' is ${dev.includes(bare) ? 'a devDependency' : 'not a dependency'}`);
      }
      if (/\.\.\/shared|REPO_ROOT/.test(source)) problems.push(`${p}: reaches into the repository`);
    }
    assert.deepEqual(problems, []);

    // And at load: every entry point and every CLI command, in a node whose resolver refuses devDependencies.
    const refuseDev = `(specifier, parentURL) => {
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
      if (${JSON.stringify(dev)}.includes(name)) return new Error('loads the devDependency ' + specifier + ' from ' + parentURL);
    }`;
    const commands = [...shipped].filter((p) => /^dist\/cli\/commands\/[^/]+\.js$/.test(p));
    const source = `
      for (const s of ${JSON.stringify(SUBPATHS)}) await import(s);
      for (const p of ${JSON.stringify(commands)}) await import(new URL(p, 'file://${PACKAGE_ROOT}').href);
      console.log('loaded');`;
    const r = await runNode([...importRefusing(refuseDev), '--input-type=module', '-e', source], { cwd: PACKAGE_ROOT });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'loaded\n');
  });

  test('a consumer project installs the tarball offline and runs the documented commands', { timeout: 480_000 }, async () => {
    const { filename } = await pack(['--pack-destination', tmp]);
    const consumer = join(tmp, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true })}\n`);
    writeFileSync(join(consumer, 'package-lock.json'), `${JSON.stringify(consumerLock(), null, 2)}\n`);
    const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(tmp, filename)], consumer, 300_000);
    assert.equal(install.code, 0, `npm install failed (is koffi in npm's cache? \`npm ci\` puts it there):\n${install.stderr}`);

    // npx iomux --help: the bin, linked into node_modules/.bin.
    const help = await run('npx', ['--offline', 'iomux', '--help'], consumer);
    assert.equal(help.code, 0, help.stderr);
    for (const cmd of ['echo-server', 'echo-client', 'slow-client', 'demo', 'echo-bench']) assert.match(help.stdout, new RegExp(`\\n  ${cmd} `));
    assert.doesNotMatch(help.stdout, /\n {2}bench /);
    const version = await run('npx', ['--offline', 'iomux', '--version'], consumer);
    assert.equal(version.stdout, `${pkg.version}\n`);

    // The demo, from the installed package (its children are started from the installed dist/ too).
    const demo = await run('npx', ['--offline', 'iomux', 'demo', '--delay', '0'], consumer);
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /served 3 connections \(0 refused\), echoed 140 bytes/);

    // import and require() of each subpath (require of an ES module: Node ^20.19 and >= 22.12).
    const esm = await run(process.execPath, ['--input-type=module', '-e', `
      for (const s of ${JSON.stringify(SUBPATHS)}) console.log(s, Object.keys(await import(s)).length > 0);`], consumer);
    assert.equal(esm.code, 0, esm.stderr);
    assert.equal(esm.stdout, SUBPATHS.map((s) => `${s} true\n`).join(''));
    const cjs = await run(process.execPath, ['-e', `
      for (const s of ${JSON.stringify(SUBPATHS)}) console.log(s, Object.keys(require(s)).length > 0);
      const { select, socketpair } = require('iomux');
      const [a, b] = socketpair();
      b.send(Buffer.from('x'));
      console.log(select([a], [], [], 1)[0].length);
      a.close(); b.close();`], consumer);
    assert.equal(cjs.code, 0, cjs.stderr);
    assert.equal(cjs.stderr, '', 'no warning either');
    assert.equal(cjs.stdout, `${SUBPATHS.map((s) => `${s} true\n`).join('')}1\n`);

    // The shipped types compile for a strict nodenext consumer, without the repository's devDependencies
    // (vega and friends): only @types/node, which a TypeScript consumer has anyway.
    writeFileSync(join(consumer, 'index.ts'), SUBPATHS.map((s, i) => `import * as m${i} from '${s}';\nvoid m${i};\n`).join('') +
      "import { select } from 'iomux/select';\nconst [r, w, x] = select([0], [], [], 0);\nconsole.log(r.length + w.length + x.length);\n");
    const tsc = await run(process.execPath, [
      join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext',
      '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', 'false', '--types', 'node',
      '--typeRoots', join(PACKAGE_ROOT, 'node_modules', '@types'), 'index.ts',
    ], consumer, 120_000);
    assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);

    // The examples, as their headers say to run them: from node_modules, each ending by itself (its demo).
    const expected: Record<string, RegExp> = {
      'echo-server': /client got back: "hello\\nfrom\\nthe seeds\\n"/,
      'echo-attached': /echoed back: one two three\nGET \/ → 0 echo connections, 11 bytes echoed/,
      'echo-await': /echoed back: one two three/,
      'unix-datagram-http': /acks: ack 1, ack 2, ack 3, ack 4\nGET \/ → \{"count":4,/,
      'fd-passing': /client 2 got: worker \d+ \(connection from port \d+\): hello 2\nworker exited with code 0/,
    };
    const shippedExamples = readdirSync(join(consumer, 'node_modules', 'iomux', 'examples')).map((f) => f.replace(/\.js$/, '')).sort();
    assert.deepEqual(shippedExamples, Object.keys(expected).sort(), 'each shipped example has its expected output here');
    for (const [name, output] of Object.entries(expected)) {
      const r = await run(process.execPath, [join('node_modules', 'iomux', 'examples', `${name}.js`)], consumer, 30_000);
      assert.equal(r.code, 0, `examples/${name}.js: ${r.signal ?? ''}\n${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, '', `examples/${name}.js wrote to stderr`);
      assert.match(r.stdout, output, `examples/${name}.js`);
    }
  });
});
