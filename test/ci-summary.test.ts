/**
 * CI's closing summary: scripts/run-tests.sh with IOMUX_TEST_RESULTS leaves each run's TAP in a directory, and
 * scripts/test-failures.mjs prints every failed test (path, message, where) from them, so the end of a long CI
 * log says what failed. Real runs of node's test runner over small test files, under this node.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './support/children.js';

async function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const childEnv = { ...process.env, ...env };
  // This file runs under node's test runner, which tells its children so; a runner started here must not think
  // it is one of them.
  delete childEnv.NODE_TEST_CONTEXT;
  const child = spawn(command, args, { cwd: PACKAGE_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.resume();
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout };
}

function scratch(t: test.TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'iomux-ci-summary-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const FAILING = `
import test, { describe } from 'node:test';
import assert from 'node:assert';
describe('outer suite', () => {
  test('passes', () => {});
  test('compares', () => { assert.strictEqual(1, 2, 'one is not two'); });
  describe('inner suite', () => { test('throws', () => { throw new Error('boom in inner'); }); });
});
test('skipped', { skip: true }, () => {});
`;

test('a run with failures: each failed test by its path, with its message and place; the summary exits 1', async (t) => {
  const dir = scratch(t);
  const results = join(dir, 'results');
  writeFileSync(join(dir, 'failing.test.mjs'), FAILING);
  writeFileSync(join(dir, 'crashing.test.mjs'), 'process.exit(3);\n');
  const tests = await run('bash', ['scripts/run-tests.sh', join(dir, 'failing.test.mjs'), join(dir, 'crashing.test.mjs')], {
    IOMUX_TEST_NODE: process.execPath,
    IOMUX_TEST_RESULTS: results,
  });
  assert.equal(tests.code, 1);
  assert.match(tests.stdout, /boom in inner/, 'the runner still prints its own report');
  assert.deepEqual(readdirSync(results), [`node-${process.version.slice(1)}-${process.arch}.tap`]);

  const summary = await run(process.execPath, ['scripts/test-failures.mjs', results]);
  assert.equal(summary.code, 1);
  const out = summary.stdout;
  assert.match(out, /: 1\/5 passed, 3 failed, 0 cancelled/);
  assert.match(out, /✖ outer suite › compares\n(.*\n)*? +one is not two/);
  assert.match(out, /✖ outer suite › inner suite › throws\n(.*\n)*? +error: 'boom in inner'/);
  assert.match(out, /✖ \S*crashing\.test\.mjs\n(.*\n)*? +exitCode: 3/);
  assert.match(out, /failing\.test\.mjs:\d+:\d+/, 'where the failure is');
  assert.doesNotMatch(out, /✖ outer suite\n/, 'a suite failing only through its tests is not listed');
  assert.doesNotMatch(out, /passes|skipped/);
  assert.doesNotMatch(out, /node:internal/, "node's own frames are left out");
});

test('a run that passes prints its counts and exits 0; a run cut short says so and exits 1', async (t) => {
  const dir = scratch(t);
  const results = join(dir, 'results');
  writeFileSync(join(dir, 'fine.test.mjs'), "import test from 'node:test';\ntest('fine', () => {});\n");
  const tests = await run('bash', ['scripts/run-tests.sh', join(dir, 'fine.test.mjs')], {
    IOMUX_TEST_NODE: process.execPath,
    IOMUX_TEST_RESULTS: results,
  });
  assert.equal(tests.code, 0);
  const passed = await run(process.execPath, ['scripts/test-failures.mjs', results]);
  assert.equal(passed.code, 0);
  assert.match(passed.stdout, /: 1\/1 passed, 0 failed, 0 cancelled\n/);
  assert.doesNotMatch(passed.stdout, /✖/);

  writeFileSync(join(results, 'node-killed.tap'), 'TAP version 13\n# Subtest: a file\nok 1 - a file\n');
  const cut = await run(process.execPath, ['scripts/test-failures.mjs', results]);
  assert.equal(cut.code, 1);
  assert.match(cut.stdout, /node-killed: no totals: the runner did not finish/);

  const empty = await run(process.execPath, ['scripts/test-failures.mjs', scratch(t)]);
  assert.equal(empty.code, 1, 'no results at all is a failure, not a pass');
});
