// @ts-check
/**
 * Reads the TAP files scripts/run-tests.sh writes when IOMUX_TEST_RESULTS names a directory, and prints, per
 * run, its counts and every failed test: its path (file › suite › test) and its failure (location, error, the
 * first lines of the stack). CI prints this last, so whoever reads only the end of a long log still sees what
 * failed and where. Exit status: 1 if any run failed or a run left no counts (it died), else 0.
 *   node scripts/test-failures.mjs DIR
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lines of a failure's YAML block kept: enough for the message and the top of the stack. */
const DETAIL_LINES = 24;
/** Lines of that block that say nothing about the failure: timing, node's own frames. */
const NOISE = /^(duration_ms:|type: 'test'$)|\bnode:[a-z_/]+:\d+|<anonymous>\)$|^async Promise\.all /;

/**
 * The failed tests of one TAP document (node's reporter: `# Subtest: name` opens a test, indented four spaces
 * per level, `not ok N - name` closes it and is followed by a `---` … `...` block). A parent failing only
 * because a child failed ('subtestsFailed') is left out: its children say what went wrong.
 * @param {string} tap
 */
export function failures(tap) {
  const lines = tap.split('\n');
  /** @type {string[]} */
  const stack = [];
  /** @type {{ path: string, detail: string[] }[]} */
  const found = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const subtest = /^( *)# Subtest: (.*)$/.exec(line);
    if (subtest) {
      stack.length = subtest[1].length / 4;
      stack.push(subtest[2]);
      continue;
    }
    const result = /^( *)(not ok|ok) \d+ - (.*?)(?: # (?:SKIP|TODO).*)?$/.exec(line);
    if (!result) continue;
    const depth = result[1].length / 4;
    const path = [...stack.slice(0, depth), result[3]].join(' › ');
    stack.length = depth;
    if (result[2] !== 'not ok') continue;
    /** @type {string[]} */
    const detail = [];
    if (lines[i + 1]?.trim() === '---') {
      for (let j = i + 2; j < lines.length && lines[j].trim() !== '...'; j++) detail.push(lines[j].trim());
    }
    if (detail.some((d) => d === "failureType: 'subtestsFailed'")) continue;
    found.push({ path, detail: detail.filter((d) => !NOISE.test(d)).slice(0, DETAIL_LINES) });
  }
  return found;
}

/** The run's totals from the reporter's closing comments (`# pass 12`), or undefined if it never got there. */
export function counts(tap) {
  const total = (name) => {
    const m = new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap);
    return m ? Number(m[1]) : undefined;
  };
  const tests = total('tests');
  if (tests === undefined) return undefined;
  return { tests, pass: total('pass') ?? 0, fail: total('fail') ?? 0, cancelled: total('cancelled') ?? 0 };
}

function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node scripts/test-failures.mjs DIR');
    process.exit(2);
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.tap')).sort();
  let bad = files.length === 0;
  console.log(`\n==== test results (${files.length} run${files.length === 1 ? '' : 's'}) ====`);
  for (const file of files) {
    const tap = readFileSync(join(dir, file), 'utf8');
    const run = file.replace(/\.tap$/, '');
    const total = counts(tap);
    const failed = failures(tap);
    if (!total) {
      bad = true;
      console.log(`${run}: no totals: the runner did not finish (killed, or out of time)`);
    } else {
      if (total.fail || total.cancelled) bad = true;
      console.log(`${run}: ${total.pass}/${total.tests} passed, ${total.fail} failed, ${total.cancelled} cancelled`);
    }
    for (const { path, detail } of failed) {
      console.log(`  ✖ ${path}`);
      for (const d of detail) console.log(`      ${d}`);
    }
  }
  process.exit(bad ? 1 : 0);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
