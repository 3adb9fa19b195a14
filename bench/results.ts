/** Reading a `bench all` results directory and averaging its rows per (server, scenario). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CountLine } from './counts.js';
import type { ScalingResult } from './scaling.js';
import type { SuiteMeta } from './meta.js';

/** One JSON line of run-echo.sh (echoload's keys plus the runner's) or of echo-bench. */
export interface ResultLine {
  server: string;
  scenario: string;
  run: string;
  date: string;
  status: string;
  server_alive?: boolean;
  server_rss_kb?: number;
  server_hwm_kb?: number;
  msgs_per_s?: number;
  mb_per_s?: number;
  lat_p50_us?: number;
  lat_p99_us?: number;
  server_cpu_pct?: number;
  server_cpu_us_per_msg?: number;
  client_cpu_pct?: number;
  idle?: number;
  idle_connected?: number;
  idle_probe_ok?: number;
  connect_errors?: number;
  resets?: number;
  corrupt_bytes?: number;
  missing_bytes?: number;
  extra_bytes?: number;
  verified_bytes?: number;
  /** Busy % of every CPU over the window, from /proc/stat (echoload's and echo-bench's). */
  cpu_busy_pct?: number[];
  [key: string]: unknown;
}

export interface SuiteResults {
  dir: string;
  pins: Pins;
  meta: SuiteMeta;
  echo: ResultLine[];
  echoBench: ResultLine[];
  scaling: (ScalingResult & { verdicts?: unknown }) | undefined;
  /** System calls and FFI crossings per message (counts.jsonl; empty when the counting pass did not run). */
  counts: CountLine[];
}

/** A results directory that `bench all` did not write (or that was damaged): what is wrong with it. */
export class InvalidResultsError extends Error {
  override get name(): string {
    return 'InvalidResultsError';
  }
}

/** The JSON lines of a results file (none if it does not exist). */
export function readLines(file: string): ResultLine[] {
  if (!existsSync(file)) return [];
  const out: ResultLine[] = [];
  for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as ResultLine);
    } catch {
      throw new InvalidResultsError(`${file}:${i + 1} is not a JSON line`);
    }
  }
  return out;
}

/** A JSON file of a results directory, parsed; InvalidResultsError when it is not JSON. */
function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const why = text.trim() === '' ? 'it is empty' : err instanceof Error ? err.message : String(err);
    throw new InvalidResultsError(`${file} is not the JSON \`bench all\` writes (${why})`);
  }
}

/** The meta.json fields the report reads; InvalidResultsError names the first one missing. */
function checkMeta(file: string, meta: unknown): SuiteMeta {
  const m = meta as Partial<SuiteMeta> | null;
  const missing = typeof m !== 'object' || m === null ? 'an object'
    : typeof m.startedAt !== 'string' ? 'startedAt'
      : typeof m.machine?.cpuCount !== 'number' || typeof m.machine.cpuModel !== 'string' ? 'machine.cpuCount and machine.cpuModel'
        : typeof m.options?.serverCpu !== 'number' ? 'options.serverCpu' : undefined;
  if (missing !== undefined) throw new InvalidResultsError(`${file} is not the meta.json \`bench all\` writes (no ${missing})`);
  return m as SuiteMeta;
}

/** Reads a results directory of `bench all`; InvalidResultsError says what is wrong with a damaged one. */
export function loadResults(dir: string): SuiteResults {
  const metaFile = join(dir, 'meta.json');
  if (!existsSync(metaFile)) throw new InvalidResultsError(`${dir} is not a \`bench all\` results directory (no meta.json)`);
  const scalingFile = join(dir, 'scaling.json');
  const meta = checkMeta(metaFile, readJson(metaFile));
  return {
    dir,
    pins: { serverCpu: meta.options?.serverCpu ?? 1, loadCpu: meta.options?.loadCpu ?? 0 },
    meta,
    echo: readLines(join(dir, 'echo.jsonl')),
    echoBench: readLines(join(dir, 'echo-bench.jsonl')),
    scaling: existsSync(scalingFile) ? (readJson(scalingFile) as SuiteResults['scaling']) : undefined,
    counts: readLines(join(dir, 'counts.jsonl')) as unknown as CountLine[],
  };
}

/** The CPUs the servers and the load generators were pinned to. */
export interface Pins {
  serverCpu: number;
  loadCpu: number;
}

/**
 * A run is "disturbed" when something other than the server and the load generator used more than this many
 * percentage points of either pinned CPU during the window. Undisturbed runs show up to about 6 points here
 * (softirq work charged to the core); a run on which other processes compete shows 15 to 80.
 */
export const DISTURBED_POINTS = 10;

/**
 * Percentage points of the busier pinned CPU used by neither the server nor the load generator during the
 * window (per-CPU busy time from /proc/stat, `cpu_busy_pct`, minus each process's own CPU %), or undefined
 * when the line does not say.
 */
export function foreignCpuPoints(l: ResultLine, pins: Pins): number | undefined {
  const busy = l.cpu_busy_pct;
  if (!Array.isArray(busy) || pins.serverCpu === pins.loadCpu) return undefined;
  const onServer = busy[pins.serverCpu];
  const onLoad = busy[pins.loadCpu];
  const srv = l.server_cpu_pct;
  const cli = l.client_cpu_pct;
  if (typeof onServer !== 'number' || typeof onLoad !== 'number' || srv === undefined || cli === undefined || srv < 0 || cli < 0) {
    return undefined;
  }
  return Math.max(onServer - srv, onLoad - cli);
}

export function isDisturbed(l: ResultLine, pins: Pins): boolean {
  return (foreignCpuPoints(l, pins) ?? 0) > DISTURBED_POINTS;
}

/**
 * The runs of one server in one scenario. Figures are means over the runs used: those whose status is "ok"
 * and that no other process disturbed, or, when every ok run was disturbed, all the ok runs (flagged).
 */
export interface Aggregate {
  server: string;
  scenario: string;
  runs: ResultLine[];
  ok: ResultLine[];
  /** The runs the figures come from. */
  used: ResultLine[];
  /** Ok runs left out because other processes competed for a pinned CPU. */
  leftOut: ResultLine[];
  /** True when every ok run was disturbed (the figures then come from disturbed runs). */
  onlyDisturbed: boolean;
  /** Mean of a numeric field over the runs used (undefined if none). */
  mean(field: keyof ResultLine): number | undefined;
  /** Half the spread of msgs/s between the runs used, in % of the mean. */
  halfSpreadPct: number | undefined;
  /** Half the spread of a numeric field between the runs used, in % of its mean (undefined with fewer than 2). */
  halfSpreadPctOf(field: keyof ResultLine): number | undefined;
}

export const DEFAULT_PINS: Pins = { serverCpu: 1, loadCpu: 0 };

export function aggregate(lines: ResultLine[], server: string, scenario: string, pins: Pins = DEFAULT_PINS): Aggregate | undefined {
  const runs = lines.filter((l) => l.server === server && l.scenario === scenario);
  if (runs.length === 0) return undefined;
  const ok = runs.filter((l) => l.status === 'ok');
  const clean = ok.filter((l) => !isDisturbed(l, pins));
  const used = clean.length ? clean : ok;
  const mean = (field: keyof ResultLine): number | undefined => {
    const v = used.map((l) => l[field]).filter((x): x is number => typeof x === 'number' && x >= 0);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
  };
  const halfSpreadPctOf = (field: keyof ResultLine): number | undefined => {
    const v = used.map((l) => l[field]).filter((x): x is number => typeof x === 'number' && x >= 0);
    const m = mean(field);
    return v.length > 1 && m ? ((Math.max(...v) - Math.min(...v)) / 2 / m) * 100 : undefined;
  };
  return {
    server, scenario, runs, ok, used, leftOut: ok.filter((l) => !used.includes(l)),
    onlyDisturbed: clean.length === 0 && ok.length > 0 && ok.some((l) => isDisturbed(l, pins)), mean,
    halfSpreadPct: halfSpreadPctOf('msgs_per_s'), halfSpreadPctOf,
  };
}

/**
 * The ratio a/b of a field round by round: for every run tag (round1, round2, retry1…) in which both sides have
 * a run used for the figures, that run's a ÷ that run's b. Their range is the noise a ratio of means hides.
 */
export function roundRatios(a: Aggregate | undefined, b: Aggregate | undefined, field: keyof ResultLine): number[] {
  if (!a || !b) return [];
  const out: number[] = [];
  for (const la of a.used) {
    const lb = b.used.find((l) => l.run === la.run);
    const x = la[field];
    const y = lb?.[field];
    if (typeof x === 'number' && typeof y === 'number' && x >= 0 && y > 0) out.push(x / y);
  }
  return out;
}

/**
 * Resident memory each idle connection adds: (RSS at idle10k − RSS at idle1k) ÷ (the difference in idle
 * connections), in bytes, from the means of every run that recorded RSS, with the same figure per run tag
 * (both scenarios of one round) to show its spread. Undefined when a side is missing or a run of the larger
 * scenario did not hold all its idle connections (a server refusing connections, e.g. select past fd 1023).
 */
export interface IdleMemory {
  bytesPerConn: number;
  perRound: number[];
  rss1kKb: number;
  rss10kKb: number;
  idleDelta: number;
}

export function idleMemory(lines: ResultLine[], server: string, pins: Pins = DEFAULT_PINS): IdleMemory | undefined {
  const small = aggregate(lines, server, 'idle1k', pins);
  const large = aggregate(lines, server, 'idle10k', pins);
  const rss1kKb = meanAll(small, 'server_rss_kb');
  const rss10kKb = meanAll(large, 'server_rss_kb');
  if (!small || !large || rss1kKb === undefined || rss10kKb === undefined) return undefined;
  if (large.runs.some((l) => l.status !== 'ok')) return undefined;
  const idleDelta = (large.runs[0]?.idle ?? 10_000) - (small.runs[0]?.idle ?? 1000);
  if (idleDelta <= 0) return undefined;
  const perRound: number[] = [];
  for (const l of large.runs) {
    const s = small.runs.find((x) => x.run === l.run);
    if (s && (l.server_rss_kb ?? 0) > 0 && (s.server_rss_kb ?? 0) > 0) perRound.push(((l.server_rss_kb! - s.server_rss_kb!) * 1024) / idleDelta);
  }
  return { bytesPerConn: ((rss10kKb - rss1kKb) * 1024) / idleDelta, perRound, rss1kKb, rss10kKb, idleDelta };
}

/** Mean of a field over every run, ok or not (memory is measured even when a scenario fails). */
export function meanAll(a: Aggregate | undefined, field: keyof ResultLine): number | undefined {
  if (!a) return undefined;
  const v = a.runs.map((l) => l[field]).filter((x): x is number => typeof x === 'number' && x > 0);
  return v.length ? v.reduce((x, y) => x + y, 0) / v.length : undefined;
}

/** The mean of a per-message count of `server` in `scenario` over the counting runs that have it. */
export function meanCount(counts: readonly CountLine[], server: string, scenario: string, field: 'syscalls_per_msg' | 'crossings_per_msg'): number | undefined {
  const v = counts.filter((c) => c.server === server && c.scenario === scenario).map((c) => c[field]).filter((x): x is number => typeof x === 'number');
  return v.length ? v.reduce((p, q) => p + q, 0) / v.length : undefined;
}
