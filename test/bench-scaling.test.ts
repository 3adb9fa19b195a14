/**
 * `bench scaling` (`npm run bench:scaling`): the table, the JSON, the SVG plot, and that the fds it opens are closed again.
 * Points are timed for a few milliseconds only: these tests check the machinery, never the speed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runNode, type ChildResult } from './support/children.js';
import { importRefusing } from './support/resolve-hooks.js';

import { logSpacedCounts, runScaling } from '../bench/scaling.js';
import { scalingCommand } from '../bench/suite.js';

/** The benchmark tools' entry point (this file runs from build/test/). */
const MAIN = fileURLToPath(new URL('../bench/main.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'iomux-bench-scaling-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The benchmark tools in a child process (killed after 30 s), with its exit code and output. */
function cli(args: string[]): Promise<ChildResult> {
  return runNode([MAIN, ...args]);
}

describe('bench scaling', () => {
  test('N runs 1, 2, 5, 10, … and ends at the maximum', () => {
    assert.deepEqual(logSpacedCounts(100), [1, 2, 5, 10, 20, 50, 100]);
    assert.deepEqual(logSpacedCounts(250), [1, 2, 5, 10, 20, 50, 100, 200, 250]);
    assert.deepEqual(logSpacedCounts(1), [1]);
  });

  test('--max-fds 100 prints a row per N with all three mechanisms and writes a valid SVG plot', async () => {
    const plot = join(tmp, 'curve.svg');
    const run = await cli(['scaling', '--max-fds', '100', '--ms-per-point', '10', '--rounds', '2', '--plot', plot]);
    assert.equal(run.code, 0, run.stderr);
    const rows = run.stdout.split('\n').filter((l) => /^\s+\d[\d,]*\s/.test(l));
    assert.deepEqual(rows.map((l) => Number(l.trim().split(/\s+/)[0])), [1, 2, 5, 10, 20, 50, 100]);
    for (const row of rows) {
      const cells = row.trim().split(/\s+/);
      assert.equal(cells.length, 5, row);
      for (const cost of cells.slice(1, 4)) assert.ok(Number(cost.replace(/,/g, '')) > 0, row);
    }
    assert.match(run.stdout, /epoll wait at 10,000 fds ≤ 2× its cost at 10: not measured/);
    const svg = readFileSync(plot, 'utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\s*$/);
    for (const name of ['select', 'poll', 'epoll', 'watched descriptors']) assert.ok(svg.includes(`>${name}`), name);
    // One line per mechanism, through all seven points (one move and six segments).
    const lines = svg.match(/<path d="M[^"]*" stroke="#[0-9a-f]{6}" stroke-width="2"/g) ?? [];
    assert.equal(lines.length, 3);
    for (const line of lines) assert.equal((line.match(/L/g) ?? []).length, 6, line);
  });

  test('--json gives every point; the pipes it made are closed afterwards', async () => {
    const run = await cli(['scaling', '--max-fds', '20', '--ms-per-point', '5', '--rounds', '1', '--json', '--only', 'poll,epoll']);
    assert.equal(run.code, 0, run.stderr);
    const r = JSON.parse(run.stdout) as { points: Array<{ mechanism: string; fds: number; usPerWait: number }>; counts: number[] };
    assert.deepEqual(r.counts, [1, 2, 5, 10, 20]);
    assert.equal(r.points.length, 10);
    assert.ok(r.points.every((p) => (p.mechanism === 'poll' || p.mechanism === 'epoll') && p.usPerWait > 0));

    const before = readdirSync('/proc/self/fd').length;
    const result = runScaling({ maxFds: 30, msPerPoint: 3, rounds: 1, mechanisms: ['select', 'epoll'] });
    assert.equal(readdirSync('/proc/self/fd').length, before);
    assert.deepEqual(result.counts, [1, 2, 5, 10, 20, 30]);
    assert.ok(result.selectLimit >= 30);
  });

  test('bad arguments name the option and exit with status 2', async () => {
    for (const [args, message] of [
      [['--max-fds', 'many'], "--max-fds must be an integer from 1 to 1000000 (got 'many')"],
      [['--max-fds', '0'], '--max-fds must be an integer from 1 to 1000000 (got 0)'],
      [['--max-fds', '-10'], '--max-fds must be an integer from 1 to 1000000 (got -10)'],
      [['--only', 'kqueue'], "--only takes a comma-separated list of select, poll, epoll (got 'kqueue')"],
      [['--plot'], '--plot needs a value (--plot FILE)'],
      [['--plot='], '--plot needs a file name'],
    ] as const) {
      const run = await cli(['scaling', ...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.equal(run.stderr, `bench scaling: ${message}\n`);
    }
  });

  test('--plot without the plotting package: one line saying how to get it, before anything is measured', async () => {
    // A resolver that pretends 'vega' is not installed, as in a checkout without its devDependencies.
    const refuseVega = `(specifier) => specifier === 'vega' ? Object.assign(new Error("Cannot find package 'vega'"), { code: 'ERR_MODULE_NOT_FOUND' }) : undefined`;
    const t0 = performance.now();
    const run = await runNode([...importRefusing(refuseVega), MAIN, 'scaling', '--ms-per-point', '2000', '--plot', join(tmp, 'never.svg')]);
    const ms = performance.now() - t0;
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, '', 'nothing measured, no table');
    assert.equal(run.stderr, "bench scaling: --plot: drawing charts needs the 'vega' package, a development dependency of iomux: " +
      'run `npm install` in the iomux checkout, then `npm run bench:scaling -- --plot FILE` draws it\n');
    // Measuring first would take over a minute (2 s per point, 3 mechanisms, 13 sizes).
    assert.ok(ms < 20_000, `took ${ms.toFixed(0)} ms: the curve was measured before the check`);
  });

  test("the suite's scaling step runs the bench tools' scaling command and gets one JSON line", async () => {
    const [node, ...args] = scalingCommand(20);
    assert.equal(node, process.execPath);
    const run = await runNode([...args, '--ms-per-point', '2', '--rounds', '1']);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { bench: string; counts: number[] };
    assert.equal(result.bench, 'scaling');
    assert.deepEqual(result.counts, [1, 2, 5, 10, 20]);
  });
});
