/** Option parsing for `iomux bench all` and `iomux bench report`. */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { intOption, numberOption, parse, UsageError } from './args.js';
import { writeReport } from './report.js';
import { loadResults } from './results.js';
import { defaultSharedBench, REPO_ROOT, runSuite, SCENARIOS, SERVERS, type Scenario } from './suite.js';

const DEFAULT_DOC = join(REPO_ROOT, 'docs', 'benchmarks.md');
const DEFAULT_IMG = join(REPO_ROOT, 'docs', 'img');

export const SUITE_USAGE = `usage: iomux bench all [--shared-bench DIR] [--rounds 2] [--duration 5] [--warmup 2]
                      [--scenarios LIST] [--servers LIST] [--max-fds 10000] [--port 9400]
                      [--retries 2] [--skip-echo-bench] [--skip-scaling] [--out DIR] [--doc FILE]
                      [--img-dir DIR] [--no-doc]

Builds the shared benchmark tools (make -C DIR), runs run-echo.sh for every server and scenario in interleaved
rounds, runs iomux echo-bench against iomux's epoll server and Node's net echo (lat, tput64), and the scaling
curve; then writes the generated sections of docs/benchmarks.md and docs/img/*.svg. Takes about 10 minutes
with the defaults; run it on a quiet machine. Each measurement waits (up to 60 s) for both CPUs to be idle;
a run during which other processes used a pinned CPU is marked disturbed and left out of the figures, and
scenarios left without an undisturbed run are run again (--retries).

  --shared-bench DIR  the shared tools (default ../shared/bench from the repository, or $IOMUX_SHARED_BENCH)
  --rounds N          interleaved rounds (default 2)
  --duration SEC      measured seconds per scenario (default 5)
  --warmup SEC        warmup seconds per scenario (default 2)
  --scenarios LIST    comma-separated subset of ${SCENARIOS.join(',')}
  --servers LIST      comma-separated subset of ${SERVERS.map((s) => s.name).join(',')}
  --max-fds N         largest N of the scaling curve (default 10000)
  --port P            TCP port for the servers (default 9400)
  --server-cpu C      CPU to pin the servers (and the scaling curve) to (default 1)
  --load-cpu C        CPU to pin the load generators to (default 0)
  --retries N         extra passes over scenarios whose every run was disturbed by other processes (default 2)
  --skip-echo-bench   do not run iomux echo-bench
  --skip-scaling      do not run the scaling curve
  --out DIR           where the raw results go (default a new directory under ${tmpdir()})
  --doc FILE          the document to update (default docs/benchmarks.md)
  --img-dir DIR       where the SVG charts go (default docs/img)
  --no-doc            only run; write no document or charts
`;

export const REPORT_USAGE = `usage: iomux bench report --from DIR [--doc FILE] [--img-dir DIR]

Rewrites the generated sections of the document (default docs/benchmarks.md) and the SVG charts (default
docs/img) from the results directory of a finished \`iomux bench all\` run.
`;

function list<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] {
  if (raw === undefined) return [...allowed];
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.find((s) => !allowed.includes(s as T));
  if (bad !== undefined || items.length === 0) {
    throw new UsageError(`--${name} takes a comma-separated list of ${allowed.join(', ')} (got '${raw}')`);
  }
  return items as T[];
}

export async function runSuiteCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    'shared-bench': { type: 'string' }, rounds: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' },
    scenarios: { type: 'string' }, servers: { type: 'string' }, 'max-fds': { type: 'string' }, port: { type: 'string' },
    'server-cpu': { type: 'string' }, 'load-cpu': { type: 'string' }, 'skip-echo-bench': { type: 'boolean' },
    'skip-scaling': { type: 'boolean' }, out: { type: 'string' }, doc: { type: 'string' }, 'img-dir': { type: 'string' },
    'no-doc': { type: 'boolean' }, retries: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(SUITE_USAGE);
    return 0;
  }
  const sharedBench = resolve(values['shared-bench'] ?? defaultSharedBench());
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const outDir = resolve(values.out ?? join(tmpdir(), `iomux-bench-${stamp}`));
  const options = {
    sharedBench, outDir,
    rounds: intOption('rounds', values.rounds, 2, 1, 100),
    duration: numberOption('duration', values.duration, 5, 0.1, 3600),
    warmup: numberOption('warmup', values.warmup, 2, 0, 3600),
    scenarios: list<Scenario>('scenarios', values.scenarios, SCENARIOS),
    servers: list('servers', values.servers, SERVERS.map((s) => s.name)),
    port: intOption('port', values.port, 9400, 1, 65_535),
    maxFds: intOption('max-fds', values['max-fds'], 10_000, 1, 1_000_000),
    serverCpu: intOption('server-cpu', values['server-cpu'], 1, 0, 4095),
    loadCpu: intOption('load-cpu', values['load-cpu'], 0, 0, 4095),
    retries: intOption('retries', values.retries, 2, 0, 10),
    echoBench: !values['skip-echo-bench'],
    scaling: !values['skip-scaling'],
  };
  // Checked after the option values, so a mistyped option is reported whatever the machine has.
  if (!existsSync(join(sharedBench, 'run-echo.sh'))) {
    throw new UsageError(`--shared-bench: ${sharedBench} has no run-echo.sh`);
  }
  const dir = await runSuite(options);
  if (values['no-doc']) return 0;
  const written = await writeReport(loadResults(dir), {
    doc: resolve(values.doc ?? DEFAULT_DOC), imgDir: resolve(values['img-dir'] ?? DEFAULT_IMG),
  });
  process.stderr.write(`bench: wrote ${written.join(', ')}\n`);
  return 0;
}

export async function reportCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    from: { type: 'string' }, doc: { type: 'string' }, 'img-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(REPORT_USAGE);
    return 0;
  }
  if (values.from === undefined) throw new UsageError('--from DIR is required (the results directory of `iomux bench all`)');
  if (!existsSync(join(values.from, 'meta.json'))) throw new UsageError(`--from: ${values.from} has no meta.json`);
  const written = await writeReport(loadResults(resolve(values.from)), {
    doc: resolve(values.doc ?? DEFAULT_DOC), imgDir: resolve(values['img-dir'] ?? DEFAULT_IMG),
  });
  process.stdout.write(`wrote ${written.join(', ')}\n`);
  return 0;
}
