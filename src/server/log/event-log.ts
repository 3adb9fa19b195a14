/**
 * The server's event log on stderr, in the seeds' wording. Per-event lines are only built when `verbose`
 * (callers test it first, so `--quiet` costs no string building); they are collected and written once per
 * loop turn, just before the server waits again. Start, error and summary lines are written at once.
 *
 * Clients decide how many lines there are, and nobody has to read them, so the log never paces the
 * server: per-connection error lines are rate-limited (the rest are counted, one line a second says how
 * many), and while serving, a write never waits for room on stderr: what does not fit at once is dropped
 * and counted (see stderr-writer.ts), and the summary reports it. Only the shutdown lines wait, briefly.
 */
import { performance } from 'node:perf_hooks';
import { FdLogWriter, type LogWriter } from './stderr-writer.js';

/** Per-connection error lines shown per second; the rest are only counted. */
export const CONNECTION_ERRORS_PER_SECOND = 20;
const WINDOW_MS = 1000;
/**
 * The shutdown lines (held-back counts, "shutting down", the summary, the dropped-lines count) together may
 * wait this long for a slow reader to make room, so a stuck stderr delays the exit by at most this much.
 */
const SHUTDOWN_WAIT_MS = 300;

export class EventLog {
  readonly verbose: boolean;
  readonly #out: LogWriter;
  #pending: string[] = [];
  /** Monotonic ms when the current rate-limit window began. */
  #windowStart = Number.NEGATIVE_INFINITY;
  #shownInWindow = 0;
  #suppressed = 0;
  /** Set by `finishing()`: the deadline every later write shares. */
  #finalDeadline: number | undefined;

  constructor(verbose: boolean, out: LogWriter = new FdLogWriter(2)) {
    this.verbose = verbose;
    this.#out = out;
  }

  /** A per-event line (received, sending, …): only call it when `verbose`. */
  event(line: string): void {
    this.#pending.push(line);
  }

  /** Start-up, shutdown and summary lines: always shown. */
  info(line: string): void {
    this.flush();
    this.#write(`${line}\n`);
  }

  /** Errors of the server itself (it cannot listen, accept failing): always shown. */
  error(line: string): void {
    this.flush();
    this.#write(`${line}\n`);
  }

  /** An error of one connection (a reset, a refusal): at most CONNECTION_ERRORS_PER_SECOND are shown. */
  connectionError(line: string, now = performance.now()): void {
    this.tick(now);
    if (this.#shownInWindow < CONNECTION_ERRORS_PER_SECOND) {
      this.#shownInWindow++;
      this.error(line);
    } else {
      this.#suppressed++;
    }
  }

  /** Called every loop turn: ends a rate-limit window that is over, saying how many lines it held back. */
  tick(now = performance.now()): void {
    if (now - this.#windowStart < WINDOW_MS) return;
    this.#reportSuppressed();
    this.#windowStart = now;
    this.#shownInWindow = 0;
  }

  /** Writes the collected event lines. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const text = `${this.#pending.join('\n')}\n`;
    this.#pending = [];
    this.#write(text);
  }

  /** Shutdown begins: the lines from here on share one bounded wait, and held-back errors are counted. */
  finishing(): void {
    // Event lines still collected go out only if there is room now: the wait is for the summary.
    this.flush();
    this.#finalDeadline = performance.now() + SHUTDOWN_WAIT_MS;
    this.#reportSuppressed();
  }

  /** The last line, only if the log lost lines: how many stderr had no room for. */
  reportDropped(): void {
    const lines = this.#out.droppedLines;
    if (lines === 0) return;
    this.info(`the log dropped ${lines} ${lines === 1 ? 'line' : 'lines'} (${this.#out.droppedBytes} bytes): stderr had no room for them`);
  }

  #reportSuppressed(): void {
    if (this.#suppressed === 0) return;
    const n = this.#suppressed;
    this.#suppressed = 0;
    this.info(`… ${n} more connection ${n === 1 ? 'error' : 'errors'} (at most ${CONNECTION_ERRORS_PER_SECOND} a second are shown)`);
  }

  #write(text: string): void {
    // While serving, no wait at all: a reader that is slow (or gone) costs lines, never latency.
    const waitMs = this.#finalDeadline !== undefined ? Math.max(0, this.#finalDeadline - performance.now()) : 0;
    this.#out.write(text, waitMs);
  }
}
