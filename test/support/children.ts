/**
 * Child processes in tests: node programs run to their end with their output collected, children writing
 * into a pipe of ours, and children sending this process signals while it blocks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { After } from './fds.js';
import { loose, nextTurn, sleep, timed } from './timing.js';

/** The package root (this file runs from build/test/support/): where `iomux/...` resolves. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs node with `args` until it ends (killed after `timeoutMs`, stretched by SLOWDOWN) and collects what it printed. */
export async function runNode(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<ChildResult> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), loose(options.timeoutMs ?? 30_000));
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** The compiled examples (build/examples/, beside build/test/). */
export const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
/** The examples the package ships (plain JavaScript in the repository's examples/, run from there). */
export const SHIPPED_EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

/**
 * Runs the example `name` (compiled from examples/*.ts, or a shipped one with `dir` SHIPPED_EXAMPLES) with
 * `args` to its end; it must exit 0. Returns what it printed.
 */
export async function runExample(name: string, args: string[] = [], dir = EXAMPLES): Promise<string> {
  const { code, stdout, stderr } = await runNode([`${dir}${name}.js`, ...args], { timeoutMs: 30000 });
  assert.equal(code, 0, `${name} exited with ${code}: ${stderr}`);
  return stdout;
}

/** Runs an ES module given as text in a fresh node, from the package root so `iomux/...` resolves. */
export function runModule(source: string, timeoutMs = 30_000): Promise<ChildResult> {
  return runNode(['--input-type=module', '-e', source], { cwd: PACKAGE_ROOT, timeoutMs });
}

/**
 * The child must end by itself with code 0 and print `ok` last: what a repro run in its own process checks, so
 * that a crash (a signal), an abort or a hang (no `ok`, killed at the timeout) fails the test, not the runner.
 */
export function assertSurvived(result: ChildResult): void {
  assert.equal(result.signal, null, `child killed by ${result.signal}; stderr:\n${result.stderr}`);
  assert.equal(result.code, 0, `exit code ${result.code}; stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  assert.match(result.stdout, /ok\n$/, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

/** The file: URL of a compiled module of this package. */
export function distUrl(path: string): string {
  return new URL(`dist/${path}`, `file://${PACKAGE_ROOT}`).href;
}

/** A worker entry point holding ES module source (workers given `eval: true` source run it as CommonJS). */
export function esmWorkerUrl(source: string): URL {
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/**
 * Polls a child's `output()` every 20 ms until it matches `re`, and returns the match; null once `running()`
 * says the child is gone or `timeoutMs` passed without one.
 */
export async function outputMatching(
  output: () => string, re: RegExp, running: () => boolean, timeoutMs: number,
): Promise<RegExpExecArray | null> {
  const deadline = Date.now() + loose(timeoutMs);
  for (;;) {
    const m = re.exec(output());
    if (m) return m;
    if (!running() || Date.now() > deadline) return null;
    await sleep(20);
  }
}

/** A node child running `script` whose stdout is the fd `w` of this process. */
export function childWritingTo(w: number, script: string): { child: ChildProcess; exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', w, 'inherit'] });
  return { child, exited: once(child, 'exit') };
}

/**
 * Counts the `signal`s that reach this process instead of letting them end it, until `release()` or, given
 * a test context, the end of that test.
 */
export function catchSignals(
  signal: NodeJS.Signals,
  t?: After,
): { readonly count: number; arrived(ms?: number): Promise<void>; release(): void } {
  let count = 0;
  let wake: (() => void) | undefined;
  const onSignal = (): void => {
    count++;
    wake?.();
  };
  // Node 24/26's test runner starts each test file with --report-signal=SIGUSR2 and reports on that signal:
  // every SIGUSR2 would also write a report.*.json into the working directory.
  const report = process.report;
  const reported = report !== undefined && report.signal === signal && report.reportOnSignal;
  if (reported) report.reportOnSignal = false;
  process.on(signal, onSignal);
  const caught = {
    get count(): number {
      return count;
    },
    /** Resolves once a signal has been caught (at once if one was), failing after `ms` (stretched by SLOWDOWN). */
    async arrived(ms = 5000): Promise<void> {
      if (count > 0) return;
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          wake = resolve;
          timer = setTimeout(() => reject(new Error(`no ${signal} within ${loose(ms)} ms`)), loose(ms));
        });
      } finally {
        wake = undefined;
        clearTimeout(timer);
      }
    },
    release(): void {
      process.off(signal, onSignal);
      if (reported) report.reportOnSignal = true;
    },
  };
  t?.after(() => caught.release());
  return caught;
}

/**
 * Runs the blocking `wait` while another process sends this one SIGUSR2 every 50 ms for 2.5 s, so signals
 * land during the whole wait and past its end. Resolves once that process is gone, with what `wait`
 * returned, the seconds it took and the signals this process handled; until then SIGUSR2 is caught.
 */
export async function underSignalStorm<T>(wait: () => T): Promise<{ result: T; seconds: number; signals: number }> {
  const signals = catchSignals('SIGUSR2');
  try {
    const script = `
      const t = setInterval(() => { try { process.kill(${process.pid}, 'SIGUSR2'); } catch { process.exit(); } }, 50);
      setTimeout(() => clearInterval(t), 2500);`;
    const helper = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const exited = once(helper, 'exit');
    let outcome: [T, number];
    try {
      outcome = timed(wait);
    } finally {
      await exited;
      await nextTurn();
    }
    return { result: outcome[0], seconds: outcome[1], signals: signals.count };
  } finally {
    signals.release();
  }
}
