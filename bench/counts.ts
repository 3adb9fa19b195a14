/**
 * System calls and FFI crossings per message of a running echo server, counted by `perf stat -p PID` over a
 * window of an echoload run (`bench all`'s counting pass, after its timed rounds: the counting slows the server,
 * so its CPU figures are never taken from these runs).
 *
 * - System calls: the `raw_syscalls:sys_enter` tracepoint, every thread of the server process.
 * - FFI crossings: a uprobe on the entry of N-API's function-call trampoline in the node binary
 *   (`v8impl::FunctionCallbackWrapper::Invoke`), through which every call of a koffi function passes — koffi is
 *   the only N-API addon an iomux server (or the FFI floor) loads, so the count is the calls from JavaScript into
 *   C. Node's own `net` calls its internal bindings without N-API: not counted, not comparable.
 * Both divided by the messages echoed in the window (echoload's rate × the window).
 */
import { spawnSync } from 'node:child_process';

/** N-API's trampoline for a JavaScript call of a native function (Node 18 to 26, x86-64 and arm64 Linux). */
export const NAPI_CALL_SYMBOL = '_ZN6v8impl12_GLOBAL__N_123FunctionCallbackWrapper6InvokeERKN2v820FunctionCallbackInfoINS2_5ValueEEE';
export const SYSCALL_EVENT = 'raw_syscalls:sys_enter';
export const CROSSING_EVENT = 'iomux_bench:napi_call';

/** One line of counts.jsonl: a server in a scenario, counted over one window. */
export interface CountLine {
  server: string;
  scenario: string;
  window_s: number;
  msgs: number;
  syscalls: number | null;
  /** N-API calls (koffi's crossings), null where not counted (not a Node server with koffi, or no probe). */
  crossings: number | null;
  syscalls_per_msg: number | null;
  crossings_per_msg: number | null;
  /** Why a count is missing, if one is. */
  note?: string;
}

/** The address of `symbol` in `nm` output ("0000000000c45d40 t _ZN…"), or undefined. */
export function symbolAddress(nmOutput: string, symbol: string): number | undefined {
  for (const line of nmOutput.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length === 3 && f[2] === symbol && /^[0-9a-f]+$/i.test(f[0]!)) return parseInt(f[0]!, 16);
  }
  return undefined;
}

/** The file offset of virtual address `vaddr`, from `readelf -lW`'s LOAD lines; undefined outside every segment. */
export function fileOffset(readelfOutput: string, vaddr: number): number | undefined {
  for (const line of readelfOutput.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== 'LOAD' || f.length < 6) continue;
    const [offset, va, , , memsz] = f.slice(1, 6).map((x) => parseInt(x, 16)) as [number, number, number, number, number];
    if (vaddr >= va && vaddr < va + memsz) return vaddr - va + offset;
  }
  return undefined;
}

/** `perf stat -x,` output: each event's count (null when "<not counted>" or "<not supported>"). */
export function parsePerfStat(text: string): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const line of text.split('\n')) {
    const f = line.split(',');
    if (f.length < 3 || line.startsWith('#')) continue;
    const value = f[0]!.trim();
    const event = f[2]!.trim();
    if (event === '') continue;
    out.set(event, /^\d+(\.\d+)?$/.test(value) ? Number(value) : null);
  }
  return out;
}

/** A count line from a window's figures. */
export function countLine(server: string, scenario: string, windowS: number, msgsPerS: number, counts: Map<string, number | null>,
  withCrossings: boolean, note?: string): CountLine {
  const msgs = Math.round(msgsPerS * windowS);
  const syscalls = counts.get(SYSCALL_EVENT) ?? null;
  const crossings = withCrossings ? (counts.get(CROSSING_EVENT) ?? null) : null;
  const per = (x: number | null): number | null => (x === null || msgs <= 0 ? null : x / msgs);
  return {
    server, scenario, window_s: windowS, msgs, syscalls, crossings,
    syscalls_per_msg: per(syscalls), crossings_per_msg: per(crossings), ...(note ? { note } : {}),
  };
}

/** What the counting pass can count here: the perf events to pass, and why a kind of count is missing. */
export interface Counters {
  events: string[];
  crossings: boolean;
  missing: string[];
}

function perfRuns(args: string[]): { ok: boolean; text: string } {
  const r = spawnSync('perf', args, { encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, text: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/**
 * Sets up the counters: checks that perf can count system calls, and adds the uprobe on `nodeBinary`'s N-API
 * trampoline (perf probe; needs root or a permissive perf_event_paranoid). `removeCrossingProbe()` takes it away.
 */
export function setUpCounters(nodeBinary: string): Counters {
  const missing: string[] = [];
  const version = perfRuns(['--version']);
  if (!version.ok) return { events: [], crossings: false, missing: ['perf is not installed (Debian: apt-get install linux-perf)'] };
  const events: string[] = [];
  const sys = perfRuns(['stat', '-x,', '-e', SYSCALL_EVENT, '--', 'true']);
  if (sys.ok && parsePerfStat(sys.text).get(SYSCALL_EVENT) != null) events.push(SYSCALL_EVENT);
  else missing.push(`perf cannot count ${SYSCALL_EVENT} (run as root or lower kernel.perf_event_paranoid): ${sys.text.split('\n')[0] ?? ''}`);

  const nm = spawnSync('nm', [nodeBinary], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const readelf = spawnSync('readelf', ['-lW', nodeBinary], { encoding: 'utf8' });
  const vaddr = nm.status === 0 ? symbolAddress(nm.stdout, NAPI_CALL_SYMBOL) : undefined;
  const offset = vaddr !== undefined && readelf.status === 0 ? fileOffset(readelf.stdout, vaddr) : undefined;
  if (offset === undefined) {
    missing.push(`FFI crossings not counted: ${nodeBinary} has no symbol table with N-API's call trampoline (a stripped node?)`);
    return { events, crossings: false, missing };
  }
  removeCrossingProbe();
  const probe = perfRuns(['probe', '-q', '-x', nodeBinary, '-a', `${CROSSING_EVENT}=0x${offset.toString(16)}`]);
  if (!probe.ok) {
    missing.push(`FFI crossings not counted: perf probe could not add a uprobe on ${nodeBinary} (${probe.text.split('\n')[0] ?? ''})`);
    return { events, crossings: false, missing };
  }
  events.push(CROSSING_EVENT);
  return { events, crossings: true, missing };
}

/** Removes the uprobe setUpCounters added (nothing if there is none). */
export function removeCrossingProbe(): void {
  perfRuns(['probe', '-q', '-d', CROSSING_EVENT]);
}

/** The command that counts `events` in process `pid` for `seconds`; its stderr is parsePerfStat's input. */
export function perfStatCommand(events: string[], pid: number, seconds: number): string[] {
  return ['perf', 'stat', '-x,', '-e', events.join(','), '-p', String(pid), '--', 'sleep', String(seconds)];
}
