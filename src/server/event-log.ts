/**
 * The server's event log on stderr, in the seeds' wording. Per-event lines are only built when `verbose`
 * (callers test it first, so `--quiet` costs no string building); they are collected and written once per
 * loop turn, just before the server waits again. Start, error and summary lines are written at once.
 */
import { writeSync } from 'node:fs';
import { poll, POLLOUT } from '../select/index.js';

export class EventLog {
  readonly verbose: boolean;
  readonly #write: (text: string) => void;
  #pending: string[] = [];

  constructor(verbose: boolean, write: (text: string) => void = writeStderr) {
    this.verbose = verbose;
    this.#write = write;
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

  /** Errors (a connection reset, a refused connection, accept failing): always shown. */
  error(line: string): void {
    this.flush();
    this.#write(`${line}\n`);
  }

  /** Writes the collected event lines. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const text = `${this.#pending.join('\n')}\n`;
    this.#pending = [];
    this.#write(text);
  }
}

let stderrBroken = false;
const stderrWritable = poll();
stderrWritable.register(2, POLLOUT);

/**
 * Writes to fd 2 and waits until it is all written, as Python's print does. process.stderr would queue
 * what a full pipe does not take and flush it only from Node's event loop, which a blocking server loop
 * seldom lets run: the log would stall, or grow in memory while the reader lags. If stderr is gone (EPIPE),
 * the log is dropped rather than the server.
 */
function writeStderr(text: string): void {
  if (stderrBroken) return;
  const bytes = Buffer.from(text);
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(2, bytes, offset);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        stderrWritable.poll(1000); // a non-blocking stderr whose pipe is full: wait for room
      } else if (code !== 'EINTR') {
        stderrBroken = true;
        return;
      }
    }
  }
}

