/**
 * `bench all` (`npm run bench`): runs the whole benchmark matrix and leaves its raw results in one directory:
 *
 *   meta.json        machine, options, how quiet the machine was before and after
 *   echo.jsonl       ../shared/bench/run-echo.sh lines (echoload against every server and scenario)
 *   echo-bench.jsonl `iomux echo-bench` (our own load generator) against iomux's server and Node's net echo
 *   scaling.json     `bench scaling --json`
 *   logs/            the servers' and echoload's output
 *
 * Rounds are interleaved (every server once, then every server again), so a slow patch of machine time
 * does not land on one server only. report.ts turns the directory into docs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, sampleQuietness, type MachineInfo, type Quietness } from './machine.js';
import { isDisturbed, readLines } from './results.js';

export const SCENARIOS = ['lat', 'tput64', 'tput4k', 'idle1k', 'idle10k'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The repository (this file is build/bench/suite.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');
/** The benchmark tools' own entry point (build/bench/main.js, beside this file). */
const BENCH = fileURLToPath(new URL('./main.js', import.meta.url));

/** The command of the suite's scaling step, before CPU pinning: `bench scaling --json` up to `maxFds`. */
export function scalingCommand(maxFds: number): string[] {
  return [process.execPath, BENCH, 'scaling', '--json', '--max-fds', String(maxFds)];
}

export interface ServerSpec {
  /** run-echo.sh's NAME. */
  name: string;
  /** How the docs call it. */
  label: string;
  /** iomux's own, or a reference. */
  kind: 'iomux' | 'anchor';
  command: (sharedBench: string) => string[];
  scenarios: readonly Scenario[];
}

export const SERVERS: readonly ServerSpec[] = [
  {
    name: 'iomux_epoll', label: 'iomux epoll', kind: 'iomux', scenarios: SCENARIOS,
    command: () => [process.execPath, CLI, 'echo-server', '--backend', 'epoll', '--quiet'],
  },
  {
    name: 'iomux_select', label: 'iomux select', kind: 'iomux', scenarios: ['idle1k', 'idle10k'],
    command: () => [process.execPath, CLI, 'echo-server', '--backend', 'select', '--quiet'],
  },
  {
    name: 'epoll_echo', label: 'C epoll_echo', kind: 'anchor', scenarios: SCENARIOS,
    command: (dir) => [join(dir, 'epoll_echo')],
  },
  {
    name: 'node_net_echo', label: 'Node net', kind: 'anchor', scenarios: SCENARIOS,
    command: (dir) => [process.execPath, join(dir, 'anchors', 'node_net_echo.js')],
  },
  {
    name: 'py_select_echo', label: 'Python select', kind: 'anchor', scenarios: ['idle1k'],
    command: (dir) => ['python3', join(dir, 'anchors', 'py_select_echo.py')],
  },
];

/** echo-bench runs: the scenario's echoload options, as echo-bench options. */
export const ECHO_BENCH_SCENARIOS: Record<'lat' | 'tput64', string[]> = {
  lat: ['--connections', '1', '--depth', '1', '--size', '64'],
  tput64: ['--connections', '50', '--depth', '16', '--size', '64'],
};
export const ECHO_BENCH_SERVERS = ['iomux_epoll', 'node_net_echo'];

export interface SuiteOptions {
  sharedBench: string;
  outDir: string;
  rounds: number;
  duration: number;
  warmup: number;
  scenarios: readonly Scenario[];
  servers: readonly string[];
  port: number;
  maxFds: number;
  echoBench: boolean;
  scaling: boolean;
  serverCpu: number;
  loadCpu: number;
  /** Extra passes over the cells that have no undisturbed run yet (see results.ts). */
  retries: number;
}

export interface SuiteMeta {
  startedAt: string;
  finishedAt?: string;
  machine: MachineInfo;
  options: Omit<SuiteOptions, 'outDir'>;
  quietBefore: Quietness;
  quietAfter?: Quietness;
  serverCommands: Record<string, string>;
}

/** The default location of the shared benchmark tools: ../shared/bench next to the repository. */
export function defaultSharedBench(): string {
  return process.env.IOMUX_SHARED_BENCH ?? resolve(REPO_ROOT, '..', 'shared', 'bench');
}

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

/** Builds echoload and epoll_echo (make does nothing when they are up to date). */
export function buildSharedBench(dir: string): void {
  if (!existsSync(join(dir, 'run-echo.sh'))) {
    throw new Error(`${dir} does not hold the shared benchmark tools (no run-echo.sh); pass --shared-bench DIR`);
  }
  const r = spawnSync('make', ['-C', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`cannot run make: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`make -C ${dir} failed (exit ${r.status})`);
}

/** Throws unless `iomux echo-server` can be run (it is another part of the project). */
function checkEchoServer(): void {
  const r = spawnSync(process.execPath, [CLI, 'echo-server', '--help'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) {
    throw new Error(`\`iomux echo-server --help\` failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`);
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, stdout: 'inherit' | 'pipe'): Promise<{ code: number; out: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', stdout, 'inherit'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), out }));
  });
}

function taskset(cpu: number): string[] {
  return spawnSync('taskset', ['--version']).status === 0 ? ['taskset', '-c', String(cpu)] : [];
}

function portAccepts(port: number): Promise<boolean> {
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
async function startServer(command: string[], port: number, cpu: number, logFile: string): Promise<{ pid: number; stop(): Promise<void> }> {
  if (await portAccepts(port)) throw new Error(`port ${port} is already in use`);
  const argv = [...taskset(cpu), ...command, '--port', String(port)];
  const fd = openSync(logFile, 'w');
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd] });
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
async function waitForQuiet(maxS = 60): Promise<void> {
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
  const srv = await startServer(server.command(o.sharedBench), o.port, o.serverCpu, join(logs, `${server.name}.echo-bench-${scenario}.server.log`));
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

/** Runs everything the options ask for; returns the results directory. */
export async function runSuite(o: SuiteOptions): Promise<string> {
  const logs = join(o.outDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const servers = SERVERS.filter((s) => {
    if (!o.servers.includes(s.name)) return false;
    // A reference whose interpreter is missing is left out rather than failing every scenario.
    const exe = s.command(o.sharedBench)[0]!;
    if (exe === 'python3' && spawnSync(exe, ['--version']).status !== 0) {
      log(`${s.name} left out: python3 is not installed`);
      return false;
    }
    return true;
  });
  if (servers.some((s) => s.kind === 'iomux')) checkEchoServer();
  buildSharedBench(o.sharedBench);

  log('sampling how busy the machine is (2 s)…');
  const quietBefore = await sampleQuietness(2);
  log(`load average ${quietBefore.loadavg.join(' ')}, CPU busy ${quietBefore.cpuBusyPct.map((x) => `${x}%`).join(' / ')}`);
  if (quietBefore.loadavg[0]! > 0.5 || quietBefore.cpuBusyPct.some((x) => x > 10)) {
    log('warning: the machine is busy; the figures will be noisy (run again when it is quiet)');
  }
  const { outDir: _omit, ...optionsForMeta } = o;
  const meta: SuiteMeta = {
    startedAt: new Date().toISOString(), machine: describeMachine(), options: optionsForMeta, quietBefore,
    serverCommands: Object.fromEntries(servers.map((s) => [s.name, [...s.command(o.sharedBench), '--port', 'PORT'].join(' ')])),
  };
  const metaFile = join(o.outDir, 'meta.json');
  writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);

  const echoFile = join(o.outDir, 'echo.jsonl');
  const benchFile = join(o.outDir, 'echo-bench.jsonl');
  const pins = { serverCpu: o.serverCpu, loadCpu: o.loadCpu };
  const echoCell = async (s: ServerSpec, scenarios: readonly Scenario[], runTag: string, what: string): Promise<void> => {
    await waitForQuiet();
    log(`${what}: run-echo.sh ${s.name} (${scenarios.join(' ')})`);
    const env = {
      ...process.env, RESULTS: echoFile, RUN: runTag, SCENARIOS: scenarios.join(' '), DURATION: String(o.duration),
      WARMUP: String(o.warmup), PORT: String(o.port), LOGDIR: logs, SERVER_CPU: String(o.serverCpu), LOAD_CPU: String(o.loadCpu),
    };
    // Exit status 1 only means some scenario was not "ok" (expected: select past fd 1023); the lines say which.
    const { code } = await run('bash', [join(o.sharedBench, 'run-echo.sh'), s.name, '--', ...s.command(o.sharedBench)], env, 'inherit');
    if (code > 1) throw new Error(`run-echo.sh ${s.name} failed (exit ${code})`);
  };
  const benchCell = async (s: ServerSpec, sc: 'lat' | 'tput64', runTag: string, what: string): Promise<void> => {
    await waitForQuiet();
    log(`${what}: iomux echo-bench against ${s.name} (${sc})`);
    const line = await echoBenchRun(s, sc, o, runTag);
    appendFileSync(benchFile, `${line}\n`);
    const r = JSON.parse(line) as Record<string, unknown>;
    log(`  ${String(r.msgs_per_s)} msgs/s, p50 ${String(r.lat_p50_us)} µs, server ${String(r.server_cpu_us_per_msg)} µs/msg, ${String(r.status)}`);
  };
  const benchServers = o.echoBench ? servers.filter((x) => ECHO_BENCH_SERVERS.includes(x.name)) : [];
  const benchScenarios = (['lat', 'tput64'] as const).filter((x) => o.scenarios.includes(x));

  for (let round = 1; round <= o.rounds; round++) {
    const what = `round ${round}/${o.rounds}`;
    for (const s of servers) {
      const scenarios = s.scenarios.filter((sc) => o.scenarios.includes(sc));
      if (scenarios.length) await echoCell(s, scenarios, `round${round}`, what);
    }
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

  if (o.scaling) {
    await waitForQuiet();
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
