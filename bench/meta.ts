/**
 * What a `bench all` run was asked to do and what it recorded about itself (meta.json): written by suite.ts,
 * read back by results.ts, which is why it stands apart from both.
 */
import type { MachineInfo, Quietness } from './machine.js';

export const SCENARIOS = ['lat', 'tput64', 'tput4k', 'idle1k', 'idle10k'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** echoload's options per scenario, as ../shared/bench/run-echo.sh passes them (for the counting pass). */
export const ECHOLOAD_ARGS: Record<Scenario, string[]> = {
  lat: ['--conns', '1', '--depth', '1', '--size', '64'],
  tput64: ['--conns', '50', '--depth', '16', '--size', '64'],
  tput4k: ['--conns', '50', '--depth', '4', '--size', '4096'],
  idle1k: ['--conns', '10', '--depth', '4', '--size', '64', '--idle', '1000'],
  idle10k: ['--conns', '10', '--depth', '4', '--size', '64', '--idle', '10000'],
};

export interface SuiteOptions {
  sharedBench: string;
  /** Where echoload and epoll_echo are compiled (the shared directory may be read-only). */
  toolsBin: string;
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
  /** Run the counting pass (system calls and FFI crossings per message, with perf): counts.jsonl. */
  counts: boolean;
  serverCpu: number;
  loadCpu: number;
  /** Extra passes over the cells that have no undisturbed run yet (see results.ts). */
  retries: number;
  /** How long each measurement waits at most for both CPUs to be idle before it goes ahead. */
  quietWait: number;
}

export interface SuiteMeta {
  startedAt: string;
  finishedAt?: string;
  machine: MachineInfo;
  options: Omit<SuiteOptions, 'outDir'>;
  quietBefore: Quietness;
  quietAfter?: Quietness;
  /** Each server's command line and the directory it ran in. */
  serverCommands: Record<string, string>;
  /** The repository's commit the run measured ("abc1234", "+ local changes" when the tree differs), if git knows. */
  commit?: string;
}
