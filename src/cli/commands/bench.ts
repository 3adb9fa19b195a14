/**
 * `iomux bench scaling|all|report`: the select/poll/epoll scaling curve, the full benchmark suite
 * (run-echo.sh scenarios against iomux's echo server and the reference servers, plus the curve), and the
 * docs/benchmarks.md + docs/img/*.svg generation from a finished run.
 */
import { writeFileSync } from 'node:fs';
import { intOption, parse, runCommand, UsageError } from '../../bench/args.js';
import { renderSvg } from '../../bench/plot.js';
import { MECHANISMS, runScaling, type Mechanism } from '../../bench/scaling.js';
import { scalingPlotSpec, scalingTextTable, scalingVerdicts } from '../../bench/scaling-report.js';
import { runSuiteCommand, reportCommand } from '../../bench/suite-cli.js';

const USAGE = `usage: iomux bench <scaling|all|report> [options]   (iomux bench <subcommand> --help)

  scaling   cost of one readiness wait with N watched fds of which one is ready: select, poll, epoll
  all       build ../shared/bench, run its run-echo.sh scenarios against iomux's echo server (epoll and
            select backends), Node's net echo and the C epoll_echo, run echo-bench and the scaling curve,
            then write docs/benchmarks.md sections and docs/img/*.svg (this is \`npm run bench\`)
  report    rewrite docs/benchmarks.md sections and docs/img/*.svg from a finished \`bench all\` run
`;

const SCALING_USAGE = `usage: iomux bench scaling [--max-fds 10000] [--plot FILE.svg] [--json]
                          [--ms-per-point 300] [--rounds 5] [--only select,poll,epoll]

Measures what one readiness wait costs (CPU µs, user + system, through iomux's select(), Poll.poll() and
Epoll.wait(), zero timeout) with N watched descriptors of which exactly one is readable: both ends of N/2 pipes, one byte left in
one of them. N runs over 1, 2, 5, 10, 20, 50, … up to --max-fds; select stops at its FD_SETSIZE limit (fds
below 1024). Prints a table (or JSON with --json); --plot writes a log-log SVG chart (needs the 'vega' package).

  --max-fds N        largest number of watched descriptors (default 10000; needs about N free fds)
  --plot FILE        write the log-log plot as SVG to FILE
  --json             print the result as one JSON object instead of the table
  --ms-per-point MS  time spent timing each (mechanism, N) point (default 300)
  --rounds R         timed rounds per point, the median is reported (default 5)
  --only LIST        comma-separated mechanisms to measure (default select,poll,epoll)
`;

async function scaling(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    'max-fds': { type: 'string' }, plot: { type: 'string' }, json: { type: 'boolean' },
    'ms-per-point': { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(SCALING_USAGE);
    return 0;
  }
  const maxFds = intOption('max-fds', values['max-fds'], 10_000, 1, 1_000_000);
  const msPerPoint = intOption('ms-per-point', values['ms-per-point'], 300, 1, 60_000);
  const rounds = intOption('rounds', values.rounds, 5, 1, 1000);
  let mechanisms: Mechanism[] = [...MECHANISMS];
  if (values.only !== undefined) {
    mechanisms = values.only.split(',').map((s) => s.trim()) as Mechanism[];
    const bad = mechanisms.find((m) => !MECHANISMS.includes(m));
    if (bad !== undefined || mechanisms.length === 0) {
      throw new UsageError(`--only takes a comma-separated list of ${MECHANISMS.join(', ')} (got '${values.only}')`);
    }
  }
  const plotFile = values.plot;
  if (plotFile === '') throw new UsageError('--plot needs a file name');

  const showProgress = !values.json && process.stderr.isTTY;
  const result = runScaling({
    maxFds, msPerPoint, rounds, mechanisms,
    onPoint: showProgress ? (p) => process.stderr.write(`\r\x1b[K  ${p.mechanism} N=${p.fds}: ${p.usPerWait.toFixed(2)} µs`) : undefined,
  });
  if (showProgress) process.stderr.write('\r\x1b[K');

  if (plotFile !== undefined) writeFileSync(plotFile, await renderSvg(scalingPlotSpec(result)));
  if (values.json) {
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

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'scaling':
      return runCommand('iomux bench scaling', () => scaling(rest));
    case 'all':
      return runCommand('iomux bench all', () => runSuiteCommand(rest));
    case 'report':
      return runCommand('iomux bench report', () => reportCommand(rest));
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case undefined:
      process.stderr.write(`iomux bench: a subcommand is required\n${USAGE}`);
      return 2;
    default:
      process.stderr.write(`iomux bench: unknown subcommand '${sub}'\n${USAGE}`);
      return 2;
  }
}
