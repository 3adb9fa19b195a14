/**
 * The child processes a command started, so that it can stop them on any way out: a normal end, an error, a
 * signal (SIGINT, SIGTERM, SIGHUP) or stdout's reader going away. Nothing it started outlives it.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';

/** How long a child gets to end after SIGTERM before it is killed. */
const GRACE_MS = 2000;

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export class Children {
  readonly #running = new Set<ChildProcess>();

  constructor() {
    // The last resort, for ways out that skip `stopAll()` (process.exit, an uncaught error): still synchronous
    // here, so the children get their SIGTERM even though nobody waits for them.
    process.once('exit', () => this.#signalAll('SIGTERM'));
  }

  /** Starts `command args` and keeps it in the set until it exits. */
  spawn(command: string, args: readonly string[], stdio: StdioOptions): ChildProcess {
    const child = spawn(command, args, { stdio });
    this.#running.add(child);
    child.once('exit', () => this.#running.delete(child));
    // A failed spawn emits 'error' without 'exit'.
    child.once('error', () => this.#running.delete(child));
    return child;
  }

  get size(): number {
    return this.#running.size;
  }

  /** SIGTERM to every child still running, SIGKILL to those left after GRACE_MS; resolves when all exited. */
  async stopAll(): Promise<void> {
    const left = [...this.#running];
    if (left.length === 0) return;
    const exits = left.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : once(c, 'exit')));
    this.#signalAll('SIGTERM');
    const timer = setTimeout(() => this.#signalAll('SIGKILL'), GRACE_MS);
    try {
      await Promise.all(exits);
    } finally {
      clearTimeout(timer);
    }
  }

  #signalAll(signal: NodeJS.Signals): void {
    for (const child of this.#running) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    }
  }
}

/**
 * Makes SIGINT, SIGTERM and SIGHUP stop `children` first, then end this process by the same signal (so the
 * shell sees the status it expects, 128 + the signal's number). `onStop` is told first, so the command can
 * stop starting new work.
 */
export function stopOnSignals(children: Children, onStop: () => void): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    // A second Ctrl-C while the children stop changes nothing: SIGKILL follows the grace period anyway.
    if (stopping) return;
    stopping = true;
    onStop();
    void children.stopAll().finally(() => {
      release();
      process.kill(process.pid, signal);
    });
  };
  const release = (): void => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return release;
}
