/**
 * The benchmark tools of the repository (they do not ship with the package): `npm run bench` (the whole
 * suite, then the docs), `npm run bench:scaling`, `npm run bench:syscalls`, or `node build/bench/main.js
 * <command>` after `npm run build && npm run build:dev`. They use the library as the package ('iomux/…'),
 * the command-line framework and load generator through the package's private import map ('#internal/…' → dist/),
 * so one copy of the library is loaded.
 */
import { writeFileSync } from 'node:fs';
import { renderSvg, loadVega } from './plot.js';
import { MECHANISMS, runScaling } from './scaling.js';
import { scalingPlotSpec, scalingTextTable, scalingVerdicts } from './scaling-report.js';
import { runSuiteCommand, reportCommand } from './suite-cli.js';
import { handleOutputClosed } from '#internal/cmdline/output.js';
import { intOption, listOption, runCommand, runSubcommand, UsageError, type CommandSpec, type ParsedArgs, type Subcommand } from '#internal/cmdline/args.js';

/** Errors and usage lines read "bench scaling: …". */
export const PROGRAM = 'bench';

export const scalingSpec: CommandSpec = {
  program: PROGRAM,
  name: 'scaling',
  summary:
    'Measures what one readiness wait costs (CPU µs, user + system, through iomux\'s select(), Poll.poll() and\n' +
    'Epoll.wait(), zero timeout) with N watched descriptors of which exactly one is readable: both ends of N/2\n' +
    'pipes, one byte left in one of them. N runs over 1, 2, 5, 10, 20, 50, … up to --max-fds; select stops at\n' +
    'its FD_SETSIZE limit (fds below 1024). Prints a table (or JSON with --json).',
  options: {
    'max-fds': { type: 'string', metavar: 'N', help: 'largest number of watched descriptors (default 10000; needs about N free fds)' },
    plot: { type: 'string', metavar: 'FILE', help: "write the log-log plot as SVG to FILE (needs the 'vega' package)" },
    json: { type: 'boolean', help: 'print the result as one JSON object instead of the table' },
    'ms-per-point': { type: 'string', metavar: 'MS', help: 'time spent timing each (mechanism, N) point (default 300)' },
    rounds: { type: 'string', metavar: 'R', help: 'timed rounds per point, the median is reported (default 5)' },
    only: { type: 'string', metavar: 'LIST', help: `comma-separated mechanisms to measure (default ${MECHANISMS.join(',')})` },
  },
};

/** Loads the plotting package before anything is measured, so a missing one costs no measurement. */
async function plottingAvailable(): Promise<void> {
  try {
    await loadVega();
  } catch (err) {
    throw new UsageError(`--plot: ${err instanceof Error ? err.message : String(err)}, then \`npm run bench:scaling -- --plot FILE\` draws it`);
  }
}

async function scaling(args: ParsedArgs): Promise<number> {
  const maxFds = intOption(args, 'max-fds', 10_000, 1, 1_000_000);
  const msPerPoint = intOption(args, 'ms-per-point', 300, 1, 60_000);
  const rounds = intOption(args, 'rounds', 5, 1, 1000);
  const mechanisms = listOption(args, 'only', MECHANISMS);
  const plotFile = args.values.plot as string | undefined;
  if (plotFile === '') throw new UsageError('--plot needs a file name');
  if (plotFile !== undefined) await plottingAvailable();
  const json = args.values.json === true;

  const showProgress = !json && process.stderr.isTTY;
  const result = runScaling({
    maxFds, msPerPoint, rounds, mechanisms,
    onPoint: showProgress ? (p) => process.stderr.write(`\r\x1b[K  ${p.mechanism} N=${p.fds}: ${p.usPerWait.toFixed(2)} µs`) : undefined,
  });
  if (showProgress) process.stderr.write('\r\x1b[K');

  if (plotFile !== undefined) writeFileSync(plotFile, await renderSvg(scalingPlotSpec(result)));
  if (json) {
    process.stdout.write(`${JSON.stringify({ bench: 'scaling', ...result, verdicts: scalingVerdicts(result) })}\n`);
    return 0;
  }
  const limit = result.selectLimit < maxFds ? `; select limited to ${result.selectLimit} fds here (FD_SETSIZE)` : '';
  process.stdout.write(`CPU time of one wait (µs, median of ${rounds} rounds), one of N watched fds ready${limit}\n\n` +
    `${scalingTextTable(result)}\n\n`);
  for (const v of scalingVerdicts(result)) {
    const mark = v.met === null ? 'n/a ' : v.met ? 'met ' : 'MISS';
    process.stdout.write(`  [${mark}] ${v.target}: ${v.detail}\n`);
  }
  if (plotFile !== undefined) process.stdout.write(`\nplot written to ${plotFile}\n`);
  return 0;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  scaling: {
    summary: 'cost of one readiness wait with N watched fds of which one is ready: select, poll, epoll',
    load: async () => ({ main: (argv) => runCommand(scalingSpec, argv, scaling) }),
  },
  all: {
    summary: 'the whole suite (run-echo.sh scenarios, echo-bench, the scaling curve), then the docs (npm run bench)',
    load: async () => ({ main: runSuiteCommand }),
  },
  report: {
    summary: 'rewrite docs/benchmarks.md sections and docs/img/*.svg from a finished `bench all` run',
    load: async () => ({ main: reportCommand }),
  },
  abuse: {
    summary: 'the echo server under abuse: flood (never-reading clients) or slow (one byte at a time), measured',
    load: () => import('./echo-server-abuse.js'),
  },
  'idle-memory': {
    summary: "an echo server's resident memory per idle connection, and (--heap) its heap growth by constructor",
    load: () => import('./idle-memory.js'),
  },
  syscalls: {
    summary: 'cost per call of the zero-timeout waits at 1, 100 and 1000 fds, and of the raw natives (npm run bench:syscalls)',
    load: () => import('./syscalls.js'),
  },
};

const EPILOG = `Run from the repository: npm run bench (= all), npm run bench:scaling, npm run bench:syscalls (options
after --), or node build/bench/main.js <command> after npm run build && npm run build:dev.`;

// `… | head`: a reader that goes away is not an error of ours; end quietly.
handleOutputClosed();

process.exitCode = await runSubcommand(PROGRAM, SUBCOMMANDS, process.argv.slice(2), EPILOG);
