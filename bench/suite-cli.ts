/** `bench all` (`npm run bench`) and `bench report`: their options, then the suite and the document writer. */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  intOption, listOption, runCommand, secondsOption, UsageError, type CommandSpec, type ParsedArgs,
} from '#internal/cmdline/args.js';
import { writeReport } from './report.js';
import { InvalidResultsError, loadResults } from './results.js';
import {
  DEFAULT_TOOLS_BIN, defaultSharedBench, missingSharedFile, REPO_ROOT, runSuite, SERVERS, SetupError,
} from './suite.js';
import { SCENARIOS, type Scenario } from './meta.js';

const DEFAULT_DOC = join(REPO_ROOT, 'docs', 'benchmarks.md');
const DEFAULT_IMG = join(REPO_ROOT, 'docs', 'img');

export const suiteSpec: CommandSpec = {
  program: 'bench',
  name: 'all',
  summary: `Builds the shared kit's C programs (echoload, epoll_echo, and anchors/uring_echo where liburing's headers
exist) into build/shared-bench, runs run-echo.sh for every server and scenario in interleaved rounds (each round:
scenario by scenario, every server back to back: iomux's servers (epoll, uring, select), the koffi FFI floor, the io_uring floor, C
epoll_echo, C io_uring, Node net, Python selectors and select), runs iomux echo-bench against iomux's epoll server
and Node's net echo (lat, tput64), counts system calls and FFI crossings per message (perf, one short run per
server and scenario), and the scaling curve; then writes the generated sections of docs/benchmarks.md and
docs/img/*.svg. Takes about 30 minutes with the defaults; run it on a quiet machine.
Each measurement waits (up to --quiet-wait seconds) for both CPUs to be idle; a run during which other processes
used a pinned CPU is marked disturbed and left out of the figures, and scenarios left without an undisturbed run
are run again (--retries).`,
  options: {
    'shared-bench': { type: 'string', metavar: 'DIR', help: 'the shared tools (default ../shared/bench from the repository, or $IOMUX_SHARED_BENCH)' },
    rounds: { type: 'string', metavar: 'N', help: 'interleaved rounds (default 3: ratios are judged on their mean, their spread is shown)' },
    duration: { type: 'string', metavar: 'SEC', help: 'measured seconds per scenario (default 5)' },
    warmup: { type: 'string', metavar: 'SEC', help: 'warmup seconds per scenario (default 2)' },
    scenarios: { type: 'string', metavar: 'LIST', help: `comma-separated subset of ${SCENARIOS.join(',')}` },
    servers: { type: 'string', metavar: 'LIST', help: `comma-separated subset of ${SERVERS.map((s) => s.name).join(',')}` },
    'max-fds': { type: 'string', metavar: 'N', help: 'largest N of the scaling curve (default 10000)' },
    port: { type: 'string', metavar: 'P', help: 'TCP port for the servers (default 9400)' },
    'server-cpu': { type: 'string', metavar: 'C', help: 'CPU to pin the servers (and the scaling curve) to (default 1)' },
    'load-cpu': { type: 'string', metavar: 'C', help: 'CPU to pin the load generators to (default 0)' },
    retries: { type: 'string', metavar: 'N', help: 'extra passes over scenarios whose every run was disturbed by other processes (default 2)' },
    'quiet-wait': { type: 'string', metavar: 'SEC', help: 'longest wait for idle CPUs before each measurement (default 60)' },
    'skip-echo-bench': { type: 'boolean', help: 'do not run iomux echo-bench' },
    'skip-scaling': { type: 'boolean', help: 'do not run the scaling curve' },
    'skip-counts': { type: 'boolean', help: 'do not count system calls and FFI crossings per message (perf)' },
    out: { type: 'string', metavar: 'DIR', help: `where the raw results go (default a new directory under ${tmpdir()})` },
    doc: { type: 'string', metavar: 'FILE', help: 'the document to update (default docs/benchmarks.md)' },
    'img-dir': { type: 'string', metavar: 'DIR', help: 'where the SVG charts go (default docs/img)' },
    'no-doc': { type: 'boolean', help: 'only run; write no document or charts' },
  },
};

export const reportSpec: CommandSpec = {
  program: 'bench',
  name: 'report',
  summary: `Rewrites the generated sections of the document (default docs/benchmarks.md) and the SVG charts (default
docs/img) from the results directory of a finished \`bench all\` run.`,
  options: {
    from: { type: 'string', metavar: 'DIR', help: 'the results directory (required)' },
    doc: { type: 'string', metavar: 'FILE', help: 'the document to update (default docs/benchmarks.md)' },
    'img-dir': { type: 'string', metavar: 'DIR', help: 'where the SVG charts go (default docs/img)' },
  },
};

function path(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  if (v === '') throw new UsageError(`--${name} must not be empty`);
  return typeof v === 'string' ? v : undefined;
}

/** A machine or kit problem found before anything was measured: one line on stderr, status 1. */
function setupFailed(message: string): number {
  process.stderr.write(`bench all: ${message}\n`);
  return 1;
}

export function runSuiteCommand(argv: string[]): Promise<number> {
  return runCommand(suiteSpec, argv, runSuiteArgs);
}

async function runSuiteArgs(args: ParsedArgs): Promise<number> {
  const sharedBench = resolve(path(args, 'shared-bench') ?? defaultSharedBench());
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const outDir = resolve(path(args, 'out') ?? join(tmpdir(), `iomux-bench-${stamp}`));
  const options = {
    sharedBench, outDir, toolsBin: DEFAULT_TOOLS_BIN,
    rounds: intOption(args, 'rounds', 3, 1, 100),
    duration: secondsOption(args, 'duration', 5, 0.1, 3600),
    warmup: secondsOption(args, 'warmup', 2, 0, 3600),
    scenarios: listOption<Scenario>(args, 'scenarios', SCENARIOS),
    servers: listOption(args, 'servers', SERVERS.map((s) => s.name)),
    port: intOption(args, 'port', 9400, 1, 65_535),
    maxFds: intOption(args, 'max-fds', 10_000, 1, 1_000_000),
    serverCpu: intOption(args, 'server-cpu', 1, 0, 4095),
    loadCpu: intOption(args, 'load-cpu', 0, 0, 4095),
    retries: intOption(args, 'retries', 2, 0, 10),
    quietWait: secondsOption(args, 'quiet-wait', 60, 0, 3600),
    echoBench: args.values['skip-echo-bench'] !== true,
    scaling: args.values['skip-scaling'] !== true,
    counts: args.values['skip-counts'] !== true,
  };
  const doc = resolve(path(args, 'doc') ?? DEFAULT_DOC);
  const imgDir = resolve(path(args, 'img-dir') ?? DEFAULT_IMG);
  // Checked after the option values, so a mistyped option is reported whatever the machine has.
  const missing = missingSharedFile(sharedBench);
  if (missing !== undefined) {
    const where = path(args, 'shared-bench') !== undefined ? '--shared-bench' : process.env.IOMUX_SHARED_BENCH ? 'IOMUX_SHARED_BENCH' : 'the default ../shared/bench';
    return setupFailed(`the shared benchmark kit is missing: ${sharedBench} (${where}) has no ${missing}; pass --shared-bench DIR or set IOMUX_SHARED_BENCH`);
  }
  let dir: string;
  try {
    dir = await runSuite(options);
  } catch (err) {
    if (err instanceof SetupError) return setupFailed(err.message);
    throw err;
  }
  if (args.values['no-doc'] === true) return 0;
  const written = await writeReport(loadResults(dir), { doc, imgDir });
  process.stderr.write(`bench: wrote ${written.join(', ')}\n`);
  return 0;
}

export function reportCommand(argv: string[]): Promise<number> {
  return runCommand(reportSpec, argv, async (args) => {
    const from = path(args, 'from');
    if (from === undefined) throw new UsageError('--from DIR is required (the results directory of `bench all`)');
    if (!existsSync(join(from, 'meta.json'))) throw new UsageError(`--from: ${from} has no meta.json`);
    const doc = resolve(path(args, 'doc') ?? DEFAULT_DOC);
    const imgDir = resolve(path(args, 'img-dir') ?? DEFAULT_IMG);
    let results;
    try {
      results = loadResults(resolve(from));
    } catch (err) {
      if (err instanceof InvalidResultsError) throw new UsageError(`--from: ${err.message}`);
      throw err;
    }
    const written = await writeReport(results, { doc, imgDir });
    process.stdout.write(`wrote ${written.join(', ')}\n`);
    return 0;
  });
}
