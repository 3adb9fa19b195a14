/**
 * The event log's way onto fd 2 that never blocks the server for long. A client decides how many lines the
 * server logs, and nobody has to read stderr: a pipe that fills up must not stop the single thread in
 * write(2), where it would serve nothing and never get to run its SIGTERM handler. So each write first asks
 * poll() for room, waiting at most the time the caller allows, and what finds no room in time is dropped
 * and counted, for the summary to report.
 *
 * fd 2 is written as it is, blocking or not: making it non-blocking would change the open file description
 * it shares with the parent (a shell's terminal, a supervisor's pipe). Instead each write(2) is at most
 * PIPE_BUF bytes, which a pipe that poll() calls writable takes without blocking (it has a free page), and
 * which a stream socket (Node's child stdio) or a terminal with room takes as well.
 */
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { poll, POLLOUT, type Poll } from '../../select/index.js';

/** PIPE_BUF on Linux. */
const CHUNK_BYTES = 4096;
const NEWLINE = 0x0a;

export interface LogWriter {
  /** Writes `text`, waiting at most `waitMs` in all for room; what does not fit in time is dropped. */
  write(text: string, waitMs: number): void;
  /** Lines (counted by their newlines) and bytes dropped so far. */
  readonly droppedLines: number;
  readonly droppedBytes: number;
}

export class FdLogWriter implements LogWriter {
  readonly #fd: number;
  readonly #room: Poll;
  /** EPIPE or another hard error: nobody will read the log again, so it is no longer written (or counted). */
  #broken = false;
  /** The last write stopped inside a line: the next one starts on a new line. */
  #midLine = false;
  droppedLines = 0;
  droppedBytes = 0;

  constructor(fd = 2) {
    this.#fd = fd;
    this.#room = poll();
    this.#room.register(fd, POLLOUT);
  }

  write(text: string, waitMs: number): void {
    if (this.#broken) return;
    const prefix = this.#midLine ? 1 : 0;
    const bytes = Buffer.from(prefix ? `\n${text}` : text);
    const deadline = performance.now() + waitMs;
    let offset = 0;
    while (offset < bytes.length && this.#hasRoom(deadline)) {
      let n: number;
      try {
        n = writeSync(this.#fd, bytes, offset, Math.min(CHUNK_BYTES, bytes.length - offset));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EINTR') continue;
        if (code === 'EAGAIN') break; // a non-blocking fd that poll() misjudged: no room after all
        this.#broken = true;
        return;
      }
      offset += n;
    }
    if (offset === bytes.length) {
      this.#midLine = false;
      return;
    }
    const dropped = bytes.subarray(Math.max(offset, prefix));
    this.droppedBytes += dropped.length;
    for (const byte of dropped) if (byte === NEWLINE) this.droppedLines++;
    if (offset > prefix) this.#midLine = bytes[offset - 1] !== NEWLINE;
  }

  /** Waits until fd 2 can take a write, or the deadline passes. Hang-ups and errors count as room: write reports them. */
  #hasRoom(deadline: number): boolean {
    for (;;) {
      const ms = Math.max(0, deadline - performance.now());
      if (this.#room.wait(ms) > 0) return true;
      if (ms === 0 || performance.now() >= deadline) return false;
    }
  }
}
