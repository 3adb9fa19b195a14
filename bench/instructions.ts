/**
 * `bench instructions` (`node build/bench/main.js instructions`): what iomux's epoll echo server costs per
 * message beside the FFI floor (the shared kit's koffi_epoll_echo.mjs) in a form that does not depend on how
 * busy the machine is: user-space instructions counted by callgrind, and system calls counted by `perf trace`
 * (or strace).
 *
 * Instructions: each server runs under `valgrind --tool=callgrind --instr-atstart=no` while echoload applies a
 * scenario of run-echo.sh (same arguments, read from the kit's scenario_args); once the load has run --warmup
 * seconds, `callgrind_control --instr=on`, --seconds later `--instr=off`, then `--dump`. The dump's total
 * instructions (every thread of the process) and its count of calls to libc's send() are exact for that
 * window. The messages echoed in the window come from the server's sockets' bytes_sent (`ss -ti`), read just
 * before and after each toggle (so the window's count is bracketed); echoload's own message rate is kept
 * beside it as a cross-check. Under valgrind the server is the bottleneck, so both servers batch alike
 * (messages per send), which the output shows.
 *
 * Syscalls: each server runs normally (pinned as in run-echo.sh) under the same load while `perf trace -S`
 * (or `strace -C -f`) follows it for --syscall-seconds; its summary gives the calls by name, and the bytes its
 * traced send calls returned give the messages echoed while tracing, exactly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listOption, runCommand, secondsOption, intOption, type CommandSpec } from '#internal/cli/args.js';
import { markdownTable, num, textTable } from './format.js';
import {
  instructionFigures, instructionVerdict, parseCallgrind, parsePerfTraceSummary, parseStraceSummary, sentBytesInTrace, ssBytesSent,
  windowMessages, type InstructionFigures,
} from './instructions-parse.js';
import {
  buildSharedBench, DEFAULT_TOOLS_BIN, defaultSharedBench, portAccepts, SCENARIOS, SERVERS, SetupError, startServer, taskset,
  type Scenario, type ServerSpec, type Tools,
} from './suite.js';

/** The two servers compared: iomux's epoll echo server and the FFI floor. */
export const INSTRUCTION_SERVERS = ['iomux_epoll', 'koffi_epoll_echo'] as const;

/** One line of instructions.jsonl: a server under callgrind, or under a syscall tracer, in one scenario. */
export interface InstructionLine {
  kind: 'callgrind' | 'syscalls';
  server: string;
  scenario: string;
  run: string;
  date: string;
  /** "ok", or what went wrong (the other fields may then be missing). */
  status: string;
  error?: string;
  size?: number;
  // kind callgrind
  window_s?: number;
  ir?: number;
  send_calls?: number;
  recv_calls?: number;
  epoll_wait_calls?: number;
  msgs?: number;
  /** How far the true count of messages in the window can be from `msgs` at most, in %. */
  msgs_bound_pct?: number;
  ir_per_msg?: number;
  ir_per_send?: number;
  msgs_per_send?: number;
  // kind syscalls
  tool?: 'perf' | 'strace';
  syscalls?: Record<string, number>;
  syscalls_per_msg?: number;
}

export interface InstructionOptions {
  sharedBench: string;
  toolsBin: string;
  scenarios: readonly Scenario[];
  /** Seconds callgrind counts per server and scenario. */
  seconds: number;
  /** Seconds of load before it starts counting. */
  warmup: number;
  /** Seconds the syscall tracer follows each server (0: no syscall count). */
  syscallSeconds: number;
  /** Run the callgrind part (false: syscalls only). */
  instructions: boolean;
  port: number;
  serverCpu: number;
  loadCpu: number;
  logDir: string;
  run: string;
  onLine: (line: InstructionLine) => void;
  say: (text: string) => void;
}

/** How long a server may take to listen under valgrind (node's start-up is 20–50× slower there). */
const VALGRIND_LISTEN_S = 180;

function has(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return r.error === undefined && r.status === 0;
}

/** Why the callgrind measurement cannot run here, or undefined. */
export function instructionsUnavailable(): string | undefined {
  if (!has('valgrind', ['--version'])) return 'valgrind is not installed (it counts the instructions; e.g. apt-get install valgrind)';
  if (!has('callgrind_control', ['--version'])) return "callgrind_control (valgrind's) is not on the PATH";
  if (!has('ss', ['-V'])) return 'ss (iproute2) is not installed (it counts the bytes the server sent)';
  return undefined;
}

/** The syscall tracer to use: perf trace when it works here, else strace; undefined when neither does. */
export function syscallTracer(): 'perf' | 'strace' | undefined {
  if (has('perf', ['trace', '-s', '-o', '/dev/null', '--', 'true'])) return 'perf';
  if (has('strace', ['-V'])) return 'strace';
  return undefined;
}

/** echoload's arguments for each scenario, read from run-echo.sh's scenario_args (the kit is their one source). */
export function scenarioArgs(runEcho: string): Record<string, string[]> {
  const fn = /scenario_args\(\)\s*\{([\s\S]*?)\n\}/.exec(runEcho)?.[1] ?? '';
  const out: Record<string, string[]> = {};
  for (const m of fn.matchAll(/^\s*([A-Za-z0-9_]+)\)\s+echo\s+"([^"]*)"/gm)) out[m[1]!] = m[2]!.trim().split(/\s+/);
  return out;
}

function sizeOf(args: string[]): number {
  const i = args.indexOf('--size');
  const n = i >= 0 ? Number(args[i + 1]) : NaN;
  if (!(n > 0)) throw new SetupError(`run-echo.sh's scenario arguments have no --size: ${args.join(' ')}`);
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Bytes sent so far by the server's side of every connection on `port`. */
function serverBytes(port: number): number {
  const r = spawnSync('ss', ['-tinH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`ss failed (exit ${r.status}): ${r.stderr.trim()}`);
  return ssBytesSent(r.stdout);
}

/** Waits until the server has sent something more than at the start (the load is running), at most `maxS`. */
async function loadRunning(port: number, maxS: number): Promise<void> {
  const start = serverBytes(port);
  for (let waited = 0; waited < maxS * 1000; waited += 200) {
    await sleep(200);
    if (serverBytes(port) > start) return;
  }
  throw new Error(`the server sent nothing within ${maxS} s of echoload's start`);
}

interface Echoload {
  /** Whether echoload is still running (it stops early on errors, and the window must lie inside its load). */
  running(): boolean;
  kill(): void;
}

/** echoload as a load only: its report is not read (its own window would include uninstrumented, faster time). */
function startEchoload(o: InstructionOptions, args: string[], warmup: number, duration: number, log: string): Echoload {
  const argv = [...taskset(o.loadCpu), join(o.toolsBin, 'echoload'), '--host', '127.0.0.1', '--port', String(o.port), ...args,
    '--warmup', String(warmup), '--duration', String(duration)];
  const fd = openSync(log, 'w');
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let alive = true;
  child.once('exit', () => (alive = false));
  child.once('error', () => (alive = false));
  return { running: () => alive, kill: () => child.kill('SIGKILL') };
}

function callgrindControl(pid: number, what: string): void {
  const r = spawnSync('callgrind_control', [what, String(pid)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0 || !/\bOK\b/.test(r.stdout)) {
    throw new Error(`callgrind_control ${what} ${pid} failed: ${(r.stdout + r.stderr).trim().split('\n').pop() ?? ''}`);
  }
}

function head(o: InstructionOptions, kind: InstructionLine['kind'], server: string, scenario: string): InstructionLine {
  return { kind, server, scenario, run: o.run, date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), status: 'ok' };
}

/** One server under callgrind in one scenario. */
async function underCallgrind(o: InstructionOptions, s: ServerSpec, scenario: Scenario, args: string[], tools: Tools): Promise<InstructionLine> {
  const line = head(o, 'callgrind', s.name, scenario);
  const size = sizeOf(args);
  line.size = size;
  const out = join(o.logDir, `${s.name}.${scenario}.callgrind.out`);
  for (const f of [out, `${out}.1`]) rmSync(f, { force: true });
  if (await portAccepts(o.port)) throw new Error(`port ${o.port} is already in use`);
  const argv = [...taskset(o.serverCpu), 'valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no',
    `--callgrind-out-file=${out}`, ...s.command(tools), '--port', String(o.port)];
  const logFd = openSync(join(o.logDir, `${s.name}.${scenario}.callgrind.log`), 'w');
  const child = spawn(argv[0]!, argv.slice(1), { cwd: s.cwd, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  let load: Echoload | undefined;
  try {
    let up = false;
    for (let i = 0; i < VALGRIND_LISTEN_S * 5 && !exited; i++) {
      if (await portAccepts(o.port)) { up = true; break; }
      await sleep(200);
    }
    if (!up) throw new Error(exited ? 'the server exited under valgrind before listening' : `no listener on port ${o.port} within ${VALGRIND_LISTEN_S} s`);
    // echoload only makes the load (its own window would include uninstrumented, faster time): it runs past
    // callgrind's window and is stopped after it.
    load = startEchoload(o, args, o.warmup, o.seconds + 60, join(o.logDir, `${s.name}.${scenario}.callgrind.echoload.log`));
    await loadRunning(o.port, 60);
    await sleep(o.warmup * 1000);
    const onBefore = serverBytes(o.port);
    callgrindControl(child.pid!, '--instr=on');
    const onAfter = serverBytes(o.port);
    const t0 = process.hrtime.bigint();
    await sleep(o.seconds * 1000);
    const offBefore = serverBytes(o.port);
    callgrindControl(child.pid!, '--instr=off');
    const offAfter = serverBytes(o.port);
    line.window_s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!load.running()) throw new Error(`echoload stopped before the end of the window (see ${o.logDir})`);
    callgrindControl(child.pid!, '--dump');
    const counts = parseCallgrind(readFileSync(`${out}.1`, 'utf8'), ['send', 'recv', 'epoll_wait']);
    const w = windowMessages({ onBefore, onAfter, offBefore, offAfter }, size);
    const f = instructionFigures(counts.ir, counts.calls.send!, w.msgs);
    Object.assign(line, {
      ir: counts.ir, send_calls: counts.calls.send, recv_calls: counts.calls.recv, epoll_wait_calls: counts.calls.epoll_wait,
      msgs: Math.round(w.msgs), msgs_bound_pct: w.boundPct, ir_per_msg: f.irPerMsg, ir_per_send: f.irPerSend, msgs_per_send: f.msgsPerSend,
    });
    if (!(counts.calls.send! > 0) || !(w.msgs > 0)) {
      line.status = 'no-echo';
      line.error = 'no send() call or no message in the window';
    }
  } catch (err) {
    line.status = 'failed';
    line.error = err instanceof Error ? err.message : String(err);
  } finally {
    load?.kill();
    // The floor blocks SIGTERM in epoll_wait; nothing of the server is needed once the dump is written.
    if (!exited) child.kill('SIGKILL');
    await exit;
  }
  return line;
}

/** One server, running normally, under perf trace (or strace) in one scenario. */
async function underTracer(o: InstructionOptions, s: ServerSpec, scenario: Scenario, args: string[], tools: Tools,
  tool: 'perf' | 'strace'): Promise<InstructionLine> {
  const line = head(o, 'syscalls', s.name, scenario);
  line.tool = tool;
  const size = sizeOf(args);
  line.size = size;
  const base = join(o.logDir, `${s.name}.${scenario}.${tool}`);
  const srv = await startServer(s.command(tools), s.cwd, o.port, o.serverCpu, `${base}.server.log`);
  const load = startEchoload(o, args, 1, o.syscallSeconds + 60, `${base}.echoload.log`);
  try {
    await loadRunning(o.port, 30);
    await sleep(1000);
    const file = `${base}.txt`;
    const argv = tool === 'perf'
      ? ['perf', 'trace', '-S', '-p', String(srv.pid), '-o', file]
      : ['strace', '-C', '-f', '-s', '0', '-p', String(srv.pid), '-o', file];
    const tracer = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    const ended = new Promise<void>((r) => tracer.once('close', () => r()));
    await sleep(o.syscallSeconds * 1000);
    // perf writes its summary on SIGINT only (SIGTERM leaves an empty file).
    tracer.kill('SIGINT');
    if (!load.running()) throw new Error(`echoload stopped before the end of the trace (see ${o.logDir})`);
    await Promise.race([ended, sleep(60_000)]);
    const text = readFileSync(file, 'utf8');
    const syscalls = tool === 'perf' ? parsePerfTraceSummary(text) : parseStraceSummary(text);
    const msgs = sentBytesInTrace(text) / size;
    const total = Object.values(syscalls).reduce((a, b) => a + b, 0);
    Object.assign(line, { msgs: Math.round(msgs), syscalls, syscalls_per_msg: msgs > 0 ? total / msgs : undefined });
    if (!(msgs > 0)) {
      line.status = 'no-echo';
      line.error = 'no send call traced';
    }
  } catch (err) {
    line.status = 'failed';
    line.error = err instanceof Error ? err.message : String(err);
  } finally {
    load.kill();
    await srv.stop();
  }
  return line;
}

/**
 * Runs the measurements the options ask for, scenario by scenario (both servers under callgrind, then both
 * under the tracer, the servers' order alternating), handing each line to `onLine`.
 */
export async function runInstructions(o: InstructionOptions): Promise<InstructionLine[]> {
  const runEcho = join(o.sharedBench, 'run-echo.sh');
  if (!existsSync(runEcho)) throw new SetupError(`the shared benchmark kit is missing: ${o.sharedBench} has no run-echo.sh (pass --shared-bench DIR)`);
  const argsOf = scenarioArgs(readFileSync(runEcho, 'utf8'));
  // The tools first: what to install is the same on every machine; which servers run here is not.
  if (o.instructions) {
    const why = instructionsUnavailable();
    if (why !== undefined) throw new SetupError(why);
  }
  const tool = o.syscallSeconds > 0 ? syscallTracer() : undefined;
  if (o.syscallSeconds > 0 && tool === undefined) throw new SetupError('neither perf (perf trace) nor strace works here: cannot count system calls');
  const servers = INSTRUCTION_SERVERS.map((n) => SERVERS.find((s) => s.name === n)!);
  for (const s of servers) {
    const why = s.unavailable?.();
    if (why !== undefined) throw new SetupError(`${s.name} cannot run here: ${why}`);
  }
  buildSharedBench(o.sharedBench, o.toolsBin);
  mkdirSync(o.logDir, { recursive: true });
  const tools: Tools = { shared: o.sharedBench, bin: o.toolsBin };
  const lines: InstructionLine[] = [];
  const keep = (l: InstructionLine): void => {
    lines.push(l);
    o.onLine(l);
  };
  for (const [i, scenario] of SCENARIOS.filter((x) => o.scenarios.includes(x)).entries()) {
    const args = argsOf[scenario];
    if (!args) throw new SetupError(`run-echo.sh has no scenario '${scenario}' in its scenario_args`);
    const order = i % 2 === 0 ? servers : [...servers].reverse();
    if (o.instructions) {
      for (const s of order) {
        o.say(`callgrind: ${s.name} in ${scenario} (${o.warmup} s of load, then ${o.seconds} s counted)`);
        const l = await underCallgrind(o, s, scenario, args, tools);
        o.say(l.status === 'ok'
          ? `  ${num(l.ir_per_msg!)} instructions per message, ${num(l.ir_per_send!)} per send(), ${l.msgs_per_send!.toFixed(2)} messages per send`
          : `  ${l.status}: ${l.error ?? ''}`);
        keep(l);
        await sleep(500);
      }
    }
    if (tool !== undefined) {
      for (const s of order) {
        o.say(`${tool === 'perf' ? 'perf trace' : 'strace'}: ${s.name} in ${scenario} (${o.syscallSeconds} s)`);
        const l = await underTracer(o, s, scenario, args, tools, tool);
        o.say(l.status === 'ok' ? `  ${l.syscalls_per_msg!.toFixed(3)} system calls per message` : `  ${l.status}: ${l.error ?? ''}`);
        keep(l);
        await sleep(500);
      }
    }
  }
  return lines;
}

/** Mean of a field over the ok lines of one kind, server and scenario. */
function meanOf(lines: readonly InstructionLine[], kind: InstructionLine['kind'], server: string, scenario: string,
  field: keyof InstructionLine): number | undefined {
  const v = lines.filter((l) => l.kind === kind && l.server === server && l.scenario === scenario && l.status === 'ok')
    .map((l) => l[field]).filter((x): x is number => typeof x === 'number');
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
}

/**
 * Past this bound (in %) on the messages counted in a window, the row and the target say the count is uncertain:
 * the toggles took a large part of a short window, or the server hardly ran in it (V8 compiling under valgrind).
 */
export const UNCERTAIN_PCT = 5;

/** The widest bound on the message count over a server's ok callgrind lines in a scenario (0 without lines). */
export function widestBound(lines: readonly InstructionLine[], server: string, scenario: string): number {
  return Math.max(0, ...lines.filter((l) => l.kind === 'callgrind' && l.server === server && l.scenario === scenario && l.status === 'ok')
    .map((l) => l.msgs_bound_pct ?? 0));
}

/** A server's callgrind figures in a scenario (means over its ok lines), or undefined. */
export function figuresOf(lines: readonly InstructionLine[], server: string, scenario: string): InstructionFigures | undefined {
  const irPerMsg = meanOf(lines, 'callgrind', server, scenario, 'ir_per_msg');
  const irPerSend = meanOf(lines, 'callgrind', server, scenario, 'ir_per_send');
  const msgsPerSend = meanOf(lines, 'callgrind', server, scenario, 'msgs_per_send');
  return irPerMsg === undefined || irPerSend === undefined || msgsPerSend === undefined ? undefined : { irPerMsg, irPerSend, msgsPerSend };
}

function scenariosOf(lines: readonly InstructionLine[]): string[] {
  const present = new Set(lines.map((l) => l.scenario));
  return [...SCENARIOS.filter((s) => present.has(s)), ...[...present].filter((s) => !(SCENARIOS as readonly string[]).includes(s))];
}

const LABEL: Record<string, string> = { iomux_epoll: 'iomux epoll', koffi_epoll_echo: 'FFI floor (koffi)' };
const label = (s: string): string => LABEL[s] ?? s;

/** The instruction table: one row per server and scenario, with iomux ÷ floor on iomux's row. */
export function instructionRows(lines: readonly InstructionLine[]): string[][] {
  const rows: string[][] = [];
  for (const sc of scenariosOf(lines)) {
    const iomux = figuresOf(lines, 'iomux_epoll', sc);
    const floor = figuresOf(lines, 'koffi_epoll_echo', sc);
    for (const sv of INSTRUCTION_SERVERS) {
      const mine = lines.filter((l) => l.kind === 'callgrind' && l.server === sv && l.scenario === sc);
      if (!mine.length) continue;
      const f = figuresOf(lines, sv, sc);
      const failed = mine.find((l) => l.status !== 'ok');
      const okLines = mine.filter((l) => l.status === 'ok');
      const msgs = okLines.reduce((a, l) => a + (l.msgs ?? 0), 0);
      const bound = widestBound(lines, sv, sc);
      let ratio = '';
      if (sv === 'iomux_epoll' && iomux && floor) {
        const v = instructionVerdict(iomux, floor);
        ratio = `${v.ratio.toFixed(3)}×${v.caveat ? ` (${v.caveat})` : ''}`;
      }
      rows.push([sc, sv === 'iomux_epoll' ? `**${label(sv)}**` : label(sv),
        f ? num(f.irPerMsg) : '-', f ? num(f.irPerSend) : '-', f ? f.msgsPerSend.toFixed(2) : '-',
        okLines.length ? `${num(msgs)} (±${bound.toFixed(1)} %)` : '-',
        ratio,
        failed ? `${failed.status}: ${failed.error ?? ''}` : bound > UNCERTAIN_PCT ? `message count uncertain (±${bound.toFixed(0)} %): a longer --seconds` : '']);
    }
  }
  return rows;
}

export const INSTRUCTION_HEADER = ['scenario', 'server', 'instructions/msg', 'instructions/send()', 'msgs/send()',
  'msgs counted (bound)', 'iomux ÷ floor', 'notes'];

/** The syscall table: system calls per message, in all and by name, for each server and scenario. */
export function syscallRows(lines: readonly InstructionLine[]): string[][] {
  const rows: string[][] = [];
  for (const sc of scenariosOf(lines)) {
    for (const sv of INSTRUCTION_SERVERS) {
      for (const l of lines.filter((x) => x.kind === 'syscalls' && x.server === sv && x.scenario === sc)) {
        if (l.status !== 'ok' || !l.syscalls || !l.msgs) {
          rows.push([sc, label(sv), l.tool ?? '-', '-', '-', `${l.status}: ${l.error ?? ''}`]);
          continue;
        }
        const per = (n: number): string => (n / l.msgs!).toFixed(3);
        const byName = Object.entries(l.syscalls).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${per(v)}`).join(', ');
        rows.push([sc, sv === 'iomux_epoll' ? `**${label(sv)}**` : label(sv), l.tool ?? '-', num(l.msgs), l.syscalls_per_msg!.toFixed(3), byName]);
      }
    }
  }
  return rows;
}

export const SYSCALL_HEADER = ['scenario', 'server', 'tracer', 'msgs traced', 'syscalls/msg', 'by name, per message'];

/** The commands' shape of the measurement, for the docs. */
export function instructionsCommand(o: Pick<InstructionOptions, 'seconds' | 'warmup' | 'syscallSeconds'>): string {
  return `node build/bench/main.js instructions --seconds ${o.seconds} --warmup ${o.warmup} --syscall-seconds ${o.syscallSeconds}`;
}

export const spec: CommandSpec = {
  program: 'bench',
  name: 'instructions',
  summary:
    'User-space instructions per echoed message of iomux\'s epoll echo server and of the FFI floor (koffi_epoll_echo.mjs),\n' +
    'counted by callgrind over a window of each run-echo.sh scenario, and system calls per message counted by perf trace\n' +
    '(strace when perf is missing) under normal load. Load-independent: the counts do not move with the machine\'s\n' +
    'noise. Needs valgrind, ss and perf or strace; takes about (warmup + seconds + 15) × 2 per scenario.',
  options: {
    scenarios: { type: 'string', metavar: 'LIST', help: `comma-separated subset of ${SCENARIOS.join(',')}` },
    seconds: { type: 'string', metavar: 'S', help: 'seconds counted under callgrind per server and scenario (default 10)' },
    warmup: { type: 'string', metavar: 'W', help: 'seconds of load before counting starts (default 10)' },
    'syscall-seconds': { type: 'string', metavar: 'S', help: 'seconds the syscall tracer follows each server, 0 for none (default 3)' },
    'syscalls-only': { type: 'boolean', help: 'count system calls only (no valgrind)' },
    port: { type: 'string', metavar: 'P', help: 'TCP port for the servers (default 9410)' },
    'shared-bench': { type: 'string', metavar: 'DIR', help: 'the shared tools (default ../shared/bench or $IOMUX_SHARED_BENCH)' },
    json: { type: 'boolean', help: 'print one JSON object (the lines and the verdicts) instead of the tables' },
    out: { type: 'string', metavar: 'FILE', help: "append each measurement's JSON line to FILE (instructions.jsonl of a `bench all` directory)" },
  },
};

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async (args) => {
    const json = args.values.json === true;
    const logDir = mkdtempSync(join(tmpdir(), 'iomux-instructions-'));
    const o: InstructionOptions = {
      sharedBench: typeof args.values['shared-bench'] === 'string' ? args.values['shared-bench'] : defaultSharedBench(),
      toolsBin: DEFAULT_TOOLS_BIN,
      scenarios: listOption<Scenario>(args, 'scenarios', SCENARIOS),
      seconds: secondsOption(args, 'seconds', 10, 0.5, 3600),
      warmup: secondsOption(args, 'warmup', 10, 0, 3600),
      syscallSeconds: secondsOption(args, 'syscall-seconds', 3, 0, 3600),
      instructions: args.values['syscalls-only'] !== true,
      port: intOption(args, 'port', 9410, 1, 65_535),
      serverCpu: 1, loadCpu: 0, logDir, run: 'instructions',
      onLine: typeof args.values.out === 'string' ? ((file) => (l: InstructionLine) => appendFileSync(file, `${JSON.stringify(l)}\n`))(args.values.out) : () => {},
      say: (t) => process.stderr.write(`bench instructions: ${t}\n`),
    };
    let lines: InstructionLine[];
    try {
      lines = await runInstructions(o);
    } catch (err) {
      if (err instanceof SetupError) {
        process.stderr.write(`bench instructions: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    const verdicts = scenariosOf(lines).map((sc) => {
      const i = figuresOf(lines, 'iomux_epoll', sc);
      const f = figuresOf(lines, 'koffi_epoll_echo', sc);
      return { scenario: sc, ...(i && f ? instructionVerdict(i, f) : { met: null }) };
    });
    if (json) {
      process.stdout.write(`${JSON.stringify({ bench: 'instructions', logDir, lines, verdicts })}\n`);
    } else {
      if (o.instructions) process.stdout.write(`User-space instructions per message (callgrind, ${o.seconds} s counted after ${o.warmup} s of load)\n\n${textTable(INSTRUCTION_HEADER, instructionRows(lines))}\n\n`);
      if (o.syscallSeconds > 0) process.stdout.write(`System calls per message (normal load, ${o.syscallSeconds} s traced)\n\n${textTable(SYSCALL_HEADER, syscallRows(lines))}\n\n`);
      for (const v of verdicts) {
        if (v.met === null) continue;
        const x = v as typeof v & { ratio: number; margin: string; caveat?: string };
        process.stdout.write(`  [${x.met ? 'met ' : 'MISS'}] instructions per message ≤ 1.03× the FFI floor's in ${v.scenario}: ${x.ratio.toFixed(3)}×, ${x.margin}${x.caveat ? `; ${x.caveat}` : ''}\n`);
      }
      process.stdout.write(`\nlogs and callgrind files in ${logDir}\n`);
    }
    return lines.some((l) => l.status !== 'ok') ? 1 : 0;
  });
}

/** Markdown versions of the two tables, for the report. */
export function instructionMarkdown(lines: readonly InstructionLine[]): { instructions: string; syscalls: string } {
  return {
    instructions: markdownTable(INSTRUCTION_HEADER, instructionRows(lines), ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l']),
    syscalls: markdownTable(SYSCALL_HEADER, syscallRows(lines), ['l', 'l', 'l', 'r', 'r', 'l']),
  };
}
