/**
 * `bench all` (`npm run bench`): runs the whole benchmark matrix and leaves its raw results in one directory:
 *
 *   meta.json        machine, options, how quiet the machine was before and after
 *   echo.jsonl       ../shared/bench/run-echo.sh lines (echoload against every server and scenario)
 *   echo-bench.jsonl `iomux echo-bench` (our own load generator) against iomux's server and Node's net echo
 *   scaling.json     `bench scaling --json`
 *   counts.jsonl     system calls and FFI crossings per message, per server and scenario (counts.ts)
 *   logs/            the servers' and echoload's output
 *
 * Rounds are interleaved (every server once, then every server again), so a slow patch of machine time
 * does not land on one server only. report.ts turns the directory into docs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasUring, uringUnavailableReason } from 'iomux/uring';
import { countLine, perfStatCommand, parsePerfStat, removeCrossingProbe, setUpCounters, type CountLine, type Counters } from './counts.js';
import { describeMachine, sampleQuietness } from './machine.js';
import { ECHOLOAD_ARGS, SCENARIOS, type Scenario, type SuiteMeta, type SuiteOptions } from './meta.js';
import { isDisturbed, readLines } from './results.js';

/** The repository (this file is build/bench/suite.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const URING_FLOOR = join(REPO_ROOT, 'build', 'bench', 'uring-floor.js');
/** The benchmark tools' own entry point (build/bench/main.js, beside this file). */
const BENCH = fileURLToPath(new URL('./main.js', import.meta.url));

/** The command of the suite's scaling step, before CPU pinning: `bench scaling --json` up to `maxFds`. */
export function scalingCommand(maxFds: number): string[] {
  return [process.execPath, BENCH, 'scaling', '--json', '--max-fds', String(maxFds)];
}

/**
 * Where the shared kit is: its scripts and anchors are read from `shared` (../shared/bench, possibly
 * read-only), its C programs (echoload, epoll_echo) are compiled into `bin` (build/shared-bench).
 */
export interface Tools {
  shared: string;
  bin: string;
}

export interface ServerSpec {
  /** run-echo.sh's NAME. */
  name: string;
  /** How the docs call it. */
  label: string;
  /** iomux's own, the FFI floor (what any koffi-based server costs at least), or a reference. */
  kind: 'iomux' | 'floor' | 'anchor';
  command: (tools: Tools) => string[];
  /**
   * The directory the server runs in. The FFI floor resolves `koffi` from its working directory
   * (createRequire(process.cwd())), so it runs in the repository, whose node_modules has the koffi iomux uses.
   */
  cwd: string;
  scenarios: readonly Scenario[];
  /** Why the server cannot run here, or undefined when it can (checked before anything is measured). */
  unavailable?: (tools: Tools) => string | undefined;
}

/** Linux x86_64 only: the floor decodes the 12-byte packed epoll_event of that ABI. */
function floorUnavailable(): string | undefined {
  if (platform() !== 'linux' || arch() !== 'x64') return `it needs Linux x86_64 (this is ${platform()} ${arch()})`;
  try {
    createRequire(join(REPO_ROOT, 'noop.js')).resolve('koffi');
  } catch {
    return `koffi cannot be resolved from ${REPO_ROOT} (run npm install there)`;
  }
  return undefined;
}

function uringUnavailable(): string | undefined {
  return hasUring() ? undefined : `io_uring is not available to this process: ${uringUnavailableReason() ?? 'unknown reason'}`;
}

/** The C io_uring anchor needs liburing's headers and library, as the kit's Makefile checks. */
export function liburingMissing(cc = process.env.CC ?? 'gcc'): string | undefined {
  const r = spawnSync(cc, ['-x', 'c', '-include', 'liburing.h', '-', '-o', '/dev/null', '-luring'], { input: 'int main(void){return 0;}\n', encoding: 'utf8' });
  // EPIPE is not a missing compiler: one that failed before reading its source (as `false` does) ran.
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE') return `no C compiler (${cc}) to build anchors/uring_echo.c`;
  if (r.status !== 0) return 'liburing\'s headers are missing: install liburing-dev (Debian, Ubuntu) or liburing-devel (Fedora), then run again';
  return undefined;
}

function uringAnchorUnavailable(tools: Tools): string | undefined {
  if (!existsSync(join(tools.shared, 'anchors', 'uring_echo.c'))) return `the shared kit has no anchors/uring_echo.c (an older kit? update ${tools.shared})`;
  return liburingMissing() ?? uringUnavailable();
}

function python3Unavailable(): string | undefined {
  return spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is not installed';
}

export const SERVERS: readonly ServerSpec[] = [
  {
    name: 'iomux_epoll', label: 'iomux epoll', kind: 'iomux', scenarios: SCENARIOS, cwd: REPO_ROOT,
    command: () => [process.execPath, CLI, 'echo-server', '--backend', 'epoll', '--quiet'],
  },
  {
    name: 'iomux_uring', label: 'iomux uring', kind: 'iomux', scenarios: SCENARIOS, cwd: REPO_ROOT,
    command: () => [process.execPath, CLI, 'echo-server', '--backend', 'uring', '--quiet'],
    unavailable: uringUnavailable,
  },
  {
    name: 'iomux_select', label: 'iomux select', kind: 'iomux', scenarios: ['idle1k', 'idle10k'], cwd: REPO_ROOT,
    command: () => [process.execPath, CLI, 'echo-server', '--backend', 'select', '--quiet'],
  },
  {
    name: 'koffi_epoll_echo', label: 'FFI floor (koffi)', kind: 'floor', scenarios: SCENARIOS, cwd: REPO_ROOT,
    command: (t) => [process.execPath, join(t.shared, 'anchors', 'koffi_epoll_echo.mjs')],
    unavailable: floorUnavailable,
  },
  {
    // The io_uring floor: the smallest echo loop over iomux's IoUring (bench/uring-floor.ts), none of the
    // server's policies — what the uring server costs above it is its own layer.
    name: 'uring_floor', label: 'io_uring floor (IoUring loop)', kind: 'floor', scenarios: SCENARIOS, cwd: REPO_ROOT,
    command: () => [process.execPath, URING_FLOOR],
    unavailable: uringUnavailable,
  },
  {
    name: 'epoll_echo', label: 'C epoll_echo', kind: 'anchor', scenarios: SCENARIOS, cwd: REPO_ROOT,
    command: (t) => [join(t.bin, 'epoll_echo')],
  },
  {
    name: 'uring_echo', label: 'C io_uring (uring_echo)', kind: 'anchor', scenarios: SCENARIOS, cwd: REPO_ROOT,
    command: (t) => [join(t.bin, 'anchors', 'uring_echo')],
    unavailable: uringAnchorUnavailable,
  },
  {
    name: 'node_net_echo', label: 'Node net', kind: 'anchor', scenarios: SCENARIOS, cwd: REPO_ROOT,
    command: (t) => [process.execPath, join(t.shared, 'anchors', 'node_net_echo.js')],
  },
  {
    name: 'py_selectors_echo', label: 'Python selectors', kind: 'anchor', scenarios: SCENARIOS, cwd: REPO_ROOT,
    command: (t) => ['python3', join(t.shared, 'anchors', 'py_selectors_echo.py')],
    unavailable: python3Unavailable,
  },
  {
    name: 'py_select_echo', label: 'Python select', kind: 'anchor', scenarios: ['idle1k'], cwd: REPO_ROOT,
    command: (t) => ['python3', join(t.shared, 'anchors', 'py_select_echo.py')],
    unavailable: python3Unavailable,
  },
];

/** echo-bench runs: the scenario's echoload options, as echo-bench options. */
export const ECHO_BENCH_SCENARIOS: Record<'lat' | 'tput64', string[]> = {
  lat: ['--connections', '1', '--depth', '1', '--size', '64'],
  tput64: ['--connections', '50', '--depth', '16', '--size', '64'],
};
export const ECHO_BENCH_SERVERS = ['iomux_epoll', 'node_net_echo'];

/** The commit of the repository (short hash), marked when the working tree has changes; undefined without git. */
export function describeCommit(dir: string = REPO_ROOT): string | undefined {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' });
  if (head.status !== 0) return undefined;
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: dir, encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.status === 0 && dirty.stdout.trim() !== '' ? ' + local changes' : ''}`;
}

/** Where `bench all` compiles the shared kit's C programs by default: under build/, never in the kit. */
export const DEFAULT_TOOLS_BIN = join(REPO_ROOT, 'build', 'shared-bench');

/** A problem with the machine or the shared kit that stops the suite before it measures anything. */
export class SetupError extends Error {
  override get name(): string {
    return 'SetupError';
  }
}

/** One measurement of the matrix: a server in a scenario, in a round. */
export interface Cell {
  round: number;
  scenario: Scenario;
  server: ServerSpec;
}

/**
 * The order of the run-echo.sh measurements: round by round, scenario by scenario, every server of the
 * scenario back to back (so the servers a ratio compares are measured minutes apart at most), the servers'
 * order reversed every other round (so no server always follows the same one).
 */
export function schedule(servers: readonly ServerSpec[], scenarios: readonly Scenario[], rounds: number): Cell[] {
  const cells: Cell[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? servers : [...servers].reverse();
    for (const scenario of SCENARIOS.filter((sc) => scenarios.includes(sc))) {
      for (const server of order) if (server.scenarios.includes(scenario)) cells.push({ round, scenario, server });
    }
  }
  return cells;
}

/**
 * Roughly how long a suite takes: warmup + window per measurement plus about 2.5 s around each (server start,
 * the quiet check, closing connections), the counting pass's `countCells` shorter runs, and half a minute for
 * the scaling curve.
 */
export function estimateSeconds(cells: number, o: Pick<SuiteOptions, 'warmup' | 'duration' | 'scaling'>, countCells = 0): number {
  return cells * (o.warmup + o.duration + 2.5) + countCells * (countWarmup(o) + countWindow(o) + 2.5) + (o.scaling ? 30 : 0);
}

/** The default location of the shared benchmark tools: ../shared/bench next to the repository. */
export function defaultSharedBench(): string {
  return process.env.IOMUX_SHARED_BENCH ?? resolve(REPO_ROOT, '..', 'shared', 'bench');
}

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

/** The files of the shared kit `bench all` reads; the first one missing, or undefined. */
export function missingSharedFile(dir: string): string | undefined {
  return ['run-echo.sh', 'Makefile', 'echoload.c', 'epoll_echo.c'].find((f) => !existsSync(join(dir, f)));
}

/**
 * Compiles echoload and epoll_echo (and, with `uring`, anchors/uring_echo) from `shared` into `bin` (make with
 * VPATH: the kit may be read-only, and make does nothing when the programs are up to date).
 */
export function buildSharedBench(shared: string, bin: string, uring = false): void {
  const missing = missingSharedFile(shared);
  if (missing !== undefined) throw new SetupError(`the shared benchmark kit is missing: ${shared} has no ${missing} (pass --shared-bench DIR)`);
  mkdirSync(join(bin, 'anchors'), { recursive: true });
  const targets = ['echoload', 'epoll_echo', ...(uring ? ['anchors/uring_echo'] : [])];
  const r = spawnSync('make', ['-s', '-C', bin, '-f', join(shared, 'Makefile'), `VPATH=${shared}`, ...targets],
    { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new SetupError(`cannot run make to build the shared kit's C programs: ${r.error.message}`);
  const what = `${targets.slice(0, -1).join(', ')} and ${targets[targets.length - 1]}`;
  if (r.status !== 0) throw new SetupError(`building ${what} from ${shared} into ${bin} failed (make exit ${r.status})`);
}

/** Throws unless `iomux echo-server` can be run (it is another part of the project). */
function checkEchoServer(): void {
  const r = spawnSync(process.execPath, [CLI, 'echo-server', '--help'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) {
    throw new SetupError(`\`iomux echo-server --help\` failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`);
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, stdout: 'inherit' | 'pipe', cwd = REPO_ROOT): Promise<{ code: number; out: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', stdout, 'inherit'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), out }));
  });
}

/** `taskset -c CPU` when taskset exists (the prefix of a pinned command), else nothing. */
export function taskset(cpu: number): string[] {
  return spawnSync('taskset', ['--version']).status === 0 ? ['taskset', '-c', String(cpu)] : [];
}

export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolvePromise(true);
    });
    s.once('error', () => resolvePromise(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts a server pinned to `cpu` with `--port`, waits until it accepts; `stop()` ends it (TERM, then KILL). */
export async function startServer(command: string[], cwd: string, port: number, cpu: number, logFile: string): Promise<{ pid: number; stop(): Promise<void> }> {
  if (await portAccepts(port)) throw new Error(`port ${port} is already in use`);
  const argv = [...taskset(cpu), ...command, '--port', String(port)];
  const fd = openSync(logFile, 'w');
  const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([exit, sleep(5000)]);
    if (!exited) child.kill('SIGKILL');
    await exit;
  };
  for (let i = 0; i < 150; i++) {
    if (exited) throw new Error(`server exited before listening (see ${logFile})`);
    if (await portAccepts(port)) return { pid: child.pid!, stop };
    await sleep(100);
  }
  await stop();
  throw new Error(`server did not listen on port ${port} within 15 s (see ${logFile})`);
}

/**
 * Waits (at most `maxS` seconds) until both CPUs are nearly idle, so a measurement does not start while
 * another job is running; goes ahead anyway after that, the runs then record how disturbed they were.
 */
async function waitForQuiet(maxS: number): Promise<void> {
  const start = Date.now();
  for (let told = false; ; ) {
    const q = await sampleQuietness(1);
    if (q.cpuBusyPct.every((x) => x < 10)) return;
    if (Date.now() - start > maxS * 1000) {
      log(`the machine is still busy (CPU ${q.cpuBusyPct.map((x) => `${x} %`).join(' / ')}); going ahead`);
      return;
    }
    if (!told) log(`waiting for the machine to quieten (CPU ${q.cpuBusyPct.map((x) => `${x} %`).join(' / ')} busy)…`);
    told = true;
  }
}

/** One `iomux echo-bench` run against one server, as run-echo.sh runs echoload. */
async function echoBenchRun(server: ServerSpec, scenario: 'lat' | 'tput64', o: SuiteOptions, runTag: string): Promise<string> {
  const logs = join(o.outDir, 'logs');
  const srv = await startServer(server.command(toolsOf(o)), server.cwd, o.port, o.serverCpu, join(logs, `${server.name}.echo-bench-${scenario}.server.log`));
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  let line: string;
  try {
    const args = [...taskset(o.loadCpu), process.execPath, CLI, 'echo-bench', '--port', String(o.port),
      ...ECHO_BENCH_SCENARIOS[scenario], '--warmup', String(o.warmup), '--duration', String(o.duration),
      '--server-pid', String(srv.pid), '--json'];
    const { code, out } = await run(args[0]!, args.slice(1), process.env, 'pipe');
    const json = out.trim().split('\n').pop() ?? '';
    const head = { server: server.name, scenario, run: runTag, date, echo_bench_rc: code };
    line = json.startsWith('{') ? JSON.stringify({ ...head, ...JSON.parse(json) }) : JSON.stringify({ ...head, status: 'no-output' });
  } finally {
    await srv.stop();
  }
  await sleep(500);
  return line;
}

function toolsOf(o: Pick<SuiteOptions, 'sharedBench' | 'toolsBin'>): Tools {
  return { shared: o.sharedBench, bin: o.toolsBin };
}

/**
 * The servers the options ask for that can run here. A reference whose interpreter is missing (python3) is
 * left out with a line on stderr; a missing script of the shared kit stops the suite (SetupError).
 */
export function selectServers(o: Pick<SuiteOptions, 'servers' | 'sharedBench' | 'toolsBin'>, say: (text: string) => void = log): ServerSpec[] {
  const out: ServerSpec[] = [];
  for (const s of SERVERS) {
    if (!o.servers.includes(s.name)) continue;
    const script = s.command(toolsOf(o)).find((a) => a.startsWith(o.sharedBench));
    if (script !== undefined && !existsSync(script)) {
      throw new SetupError(`the shared benchmark kit has no ${script} (an older kit?); update it or leave ${s.name} out with --servers`);
    }
    const why = s.unavailable?.(toolsOf(o));
    if (why !== undefined) {
      say(`${s.name} left out: ${why}`);
      continue;
    }
    out.push(s);
  }
  return out;
}

/** The window of a counting run: short, its figures are counts, not CPU time. */
export function countWindow(o: Pick<SuiteOptions, 'duration'>): number {
  return Math.min(o.duration, 3);
}

/** The warmup of a counting run: at least 1 s (the idle scenarios connect their idle connections in it). */
function countWarmup(o: Pick<SuiteOptions, 'warmup'>): number {
  return Math.max(1, Math.min(o.warmup, 2));
}

/**
 * The counting pass: every server in every scenario once more, with perf counting its system calls (and, for the
 * Node servers that call C through koffi, its FFI crossings) over a window of an echoload run; one line per run
 * in counts.jsonl. After the timed rounds, because the uprobe slows each crossing down.
 */
async function countPass(servers: readonly ServerSpec[], o: SuiteOptions): Promise<void> {
  const file = join(o.outDir, 'counts.jsonl');
  const counters: Counters = setUpCounters(process.execPath);
  for (const m of counters.missing) log(`counting: ${m}`);
  if (counters.events.length === 0) return;
  try {
    const window = countWindow(o);
    const warmup = countWarmup(o);
    for (const s of servers) {
      for (const sc of s.scenarios.filter((x) => o.scenarios.includes(x))) {
        await waitForQuiet(o.quietWait);
        log(`counting: ${s.name} (${sc}), ${window} s`);
        const line = await countRun(s, sc, o, counters, warmup, window);
        appendFileSync(file, `${JSON.stringify(line)}\n`);
        const f = (x: number | null): string => (x === null ? '-' : x.toFixed(3));
        log(`  ${f(line.syscalls_per_msg)} system calls, ${f(line.crossings_per_msg)} FFI crossings per message${line.note ? ` (${line.note})` : ''}`);
      }
    }
  } finally {
    if (counters.crossings) removeCrossingProbe();
  }
}

async function countRun(s: ServerSpec, sc: Scenario, o: SuiteOptions, counters: Counters, warmup: number, window: number): Promise<CountLine> {
  const logs = join(o.outDir, 'logs');
  const srv = await startServer(s.command(toolsOf(o)), s.cwd, o.port, o.serverCpu, join(logs, `${s.name}.count-${sc}.server.log`));
  try {
    const load = [...taskset(o.loadCpu), join(o.toolsBin, 'echoload'), '--host', '127.0.0.1', '--port', String(o.port), ...ECHOLOAD_ARGS[sc],
      '--warmup', String(warmup), '--duration', String(window), '--json'];
    const loadRun = run(load[0]!, load.slice(1), process.env, 'pipe');
    // perf starts when echoload's window does (its warmup includes connecting the idle connections).
    await sleep(warmup * 1000);
    const perfArgs = perfStatCommand(counters.events, srv.pid, window);
    const perf = spawnSync(perfArgs[0]!, perfArgs.slice(1), { encoding: 'utf8' });
    const { out } = await loadRun;
    const json = out.trim().split('\n').pop() ?? '';
    const rate = json.startsWith('{') ? Number((JSON.parse(json) as { msgs_per_s?: number }).msgs_per_s ?? 0) : 0;
    const withCrossings = counters.crossings && s.kind !== 'anchor';
    const note = perf.status !== 0 ? `perf stat failed: ${(perf.stderr ?? '').trim().split('\n')[0] ?? ''}` : rate <= 0 ? 'echoload reported no messages' : undefined;
    return countLine(s.name, sc, window, rate, parsePerfStat(perf.stderr ?? ''), withCrossings, note);
  } finally {
    await srv.stop();
  }
}

/** Runs everything the options ask for; returns the results directory. */
export async function runSuite(o: SuiteOptions): Promise<string> {
  const logs = join(o.outDir, 'logs');
  const servers = selectServers(o);
  if (servers.some((s) => s.kind === 'iomux')) checkEchoServer();
  buildSharedBench(o.sharedBench, o.toolsBin, servers.some((s) => s.name === 'uring_echo'));
  mkdirSync(logs, { recursive: true });
  const tools = toolsOf(o);

  const cells = schedule(servers, o.scenarios, o.rounds);
  const benchServers = o.echoBench ? servers.filter((x) => ECHO_BENCH_SERVERS.includes(x.name)) : [];
  const benchScenarios = (['lat', 'tput64'] as const).filter((x) => o.scenarios.includes(x));
  const countCells = o.counts ? schedule(servers, o.scenarios, 1).length : 0;
  const minutes = estimateSeconds(cells.length + o.rounds * benchServers.length * benchScenarios.length, o, countCells) / 60;
  log(`${cells.length} run-echo.sh measurements in ${o.rounds} round(s)${countCells ? ` and ${countCells} counting runs` : ''}, about ${Math.ceil(minutes)} minutes in all`);

  log('sampling how busy the machine is (2 s)…');
  const quietBefore = await sampleQuietness(2);
  log(`load average ${quietBefore.loadavg.join(' ')}, CPU busy ${quietBefore.cpuBusyPct.map((x) => `${x}%`).join(' / ')}`);
  if (quietBefore.loadavg[0]! > 0.5 || quietBefore.cpuBusyPct.some((x) => x > 10)) {
    log('warning: the machine is busy; the figures will be noisy (run again when it is quiet)');
  }
  const { outDir: _omit, ...optionsForMeta } = o;
  const meta: SuiteMeta = {
    startedAt: new Date().toISOString(), machine: describeMachine(), options: optionsForMeta, quietBefore, commit: describeCommit(),
    serverCommands: Object.fromEntries(servers.map((s) => [s.name, `(cd ${s.cwd} && ${[...s.command(tools), '--port', 'PORT'].join(' ')})`])),
  };
  const metaFile = join(o.outDir, 'meta.json');
  writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);

  const echoFile = join(o.outDir, 'echo.jsonl');
  const benchFile = join(o.outDir, 'echo-bench.jsonl');
  const pins = { serverCpu: o.serverCpu, loadCpu: o.loadCpu };
  const echoCell = async (s: ServerSpec, scenarios: readonly Scenario[], runTag: string, what: string): Promise<void> => {
    await waitForQuiet(o.quietWait);
    log(`${what}: run-echo.sh ${s.name} (${scenarios.join(' ')})`);
    const env = {
      ...process.env, RESULTS: echoFile, RUN: runTag, SCENARIOS: scenarios.join(' '), DURATION: String(o.duration),
      WARMUP: String(o.warmup), PORT: String(o.port), LOGDIR: logs, SERVER_CPU: String(o.serverCpu), LOAD_CPU: String(o.loadCpu),
      ECHOLOAD: join(o.toolsBin, 'echoload'),
    };
    // Exit status 1 only means some scenario was not "ok" (expected: select past fd 1023); the lines say which.
    const { code } = await run('bash', [join(o.sharedBench, 'run-echo.sh'), s.name, '--', ...s.command(tools)], env, 'inherit', s.cwd);
    if (code > 1) throw new Error(`run-echo.sh ${s.name} failed (exit ${code})`);
  };
  const benchCell = async (s: ServerSpec, sc: 'lat' | 'tput64', runTag: string, what: string): Promise<void> => {
    await waitForQuiet(o.quietWait);
    log(`${what}: iomux echo-bench against ${s.name} (${sc})`);
    const line = await echoBenchRun(s, sc, o, runTag);
    appendFileSync(benchFile, `${line}\n`);
    const r = JSON.parse(line) as Record<string, unknown>;
    log(`  ${String(r.msgs_per_s)} msgs/s, p50 ${String(r.lat_p50_us)} µs, server ${String(r.server_cpu_us_per_msg)} µs/msg, ${String(r.status)}`);
  };

  for (let round = 1; round <= o.rounds; round++) {
    const what = `round ${round}/${o.rounds}`;
    for (const c of cells.filter((x) => x.round === round)) await echoCell(c.server, [c.scenario], `round${round}`, what);
    for (const s of benchServers) for (const sc of benchScenarios) await benchCell(s, sc, `round${round}`, what);
  }

  // Cells whose every run was disturbed by other processes are run again (in calmer moments, if any come).
  for (let pass = 1; pass <= o.retries; pass++) {
    const lacking = (file: string, server: string, scenario: string): boolean => {
      const lines = readLines(file).filter((l) => l.server === server && l.scenario === scenario);
      return lines.length > 0 && lines.every((l) => isDisturbed(l, pins));
    };
    const what = `retry ${pass}/${o.retries}`;
    let any = false;
    for (const s of servers) {
      const scenarios = s.scenarios.filter((sc) => o.scenarios.includes(sc) && lacking(echoFile, s.name, sc));
      if (scenarios.length) {
        any = true;
        await echoCell(s, scenarios, `retry${pass}`, what);
      }
    }
    for (const s of benchServers) {
      for (const sc of benchScenarios) {
        if (lacking(benchFile, s.name, sc)) {
          any = true;
          await benchCell(s, sc, `retry${pass}`, what);
        }
      }
    }
    if (!any) break;
  }

  if (o.counts) await countPass(servers, o);

  if (o.scaling) {
    await waitForQuiet(o.quietWait);
    log(`scaling curve up to ${o.maxFds} fds (pinned to CPU ${o.serverCpu})`);
    const args = [...taskset(o.serverCpu), ...scalingCommand(o.maxFds)];
    const { code, out } = await run(args[0]!, args.slice(1), process.env, 'pipe');
    if (code !== 0) throw new Error(`bench scaling failed (exit ${code})`);
    writeFileSync(join(o.outDir, 'scaling.json'), `${out.trim().split('\n').pop()}\n`);
  }

  meta.quietAfter = await sampleQuietness(2);
  meta.finishedAt = new Date().toISOString();
  writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
  log(`results in ${o.outDir}`);
  return o.outDir;
}
