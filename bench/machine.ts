/** What the benchmarks ran on, and how busy the machine was: recorded with every suite run. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { busyPercent, cpuJiffies } from '#internal/load/proc.js';

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  virtualized: boolean;
  kernel: string;
  memoryGiB: number;
  node: string;
  python: string | null;
  gcc: string | null;
}

function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return null;
  return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? null;
}

export function describeMachine(): MachineInfo {
  let virtualized = false;
  try {
    virtualized = /^flags\s*:.*\bhypervisor\b/m.test(readFileSync('/proc/cpuinfo', 'latin1'));
  } catch {
    // Not Linux, or /proc is hidden: leave it false.
  }
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    virtualized,
    kernel: release(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    python: firstLine('python3', ['--version']),
    gcc: firstLine('gcc', ['--version']),
  };
}

export interface Quietness {
  /** When it was sampled (ISO 8601). */
  at: string;
  /** 1, 5 and 15 minute load averages. */
  loadavg: number[];
  /** Busy % of each CPU over the sample, nothing of ours running. */
  cpuBusyPct: number[];
  sampleS: number;
}

/** Samples how busy the machine is for `seconds` (blocking; call it while nothing of ours runs). */
export async function sampleQuietness(seconds = 2): Promise<Quietness> {
  const before = cpuJiffies();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = cpuJiffies();
  return {
    at: new Date().toISOString(),
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    cpuBusyPct: busyPercent(before, after).map((x) => Math.round(x * 10) / 10),
    sampleS: seconds,
  };
}
