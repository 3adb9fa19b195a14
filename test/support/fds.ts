/**
 * File descriptors in tests: counting what this process has open (/proc/self/fd), closing what a test
 * opened whatever happened, and a file-wide check that the tests of a file leaked none.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { OSError } from 'iomux/errors';
import * as os from 'iomux/os';
import { catchSignals, runNode } from './children.js';
import { sleep } from './timing.js';

/** What node:test's test context offers for cleaning up (also a suite's `t`). */
export interface After {
  after(fn: () => void): void;
}

/** How many fds this process has open right now. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The numbers of the fds this process has open right now. */
export function openFdNumbers(): Set<number> {
  return new Set(readdirSync('/proc/self/fd').map(Number));
}

/** Closes each fd, ignoring the ones already closed. */
export function closeQuietly(...fds: number[]): void {
  for (const fd of fds) {
    try {
      os.close(fd);
    } catch {
      // already closed by the test
    }
  }
}

/**
 * The fds a test opens, closed when it ends whatever happened. Closing through `close()` forgets the fd,
 * so a number the kernel hands out again later is never closed twice. Objects that hold fds of their own
 * (selectors, pollers, watchers, sockets) are given to `own()` and closed first.
 */
export class Fds {
  readonly #open = new Set<number>();
  readonly #closers: Array<() => void> = [];

  constructor(t: After) {
    t.after(() => this.closeAll());
  }

  pipe(): [number, number] {
    const [r, w] = os.pipe();
    this.#open.add(r).add(w);
    return [r, w];
  }

  /**
   * A pipe end that is readable and writable, like one end of a connected socket pair: `[duplex, writer]`,
   * where writing into `writer` makes `duplex` readable.
   */
  duplex(): [number, number] {
    const [r, w] = this.pipe();
    const rw = this.add(openSync(`/proc/self/fd/${r}`, 'r+'));
    this.close(r);
    return [rw, w];
  }

  add(fd: number): number {
    this.#open.add(fd);
    return fd;
  }

  /** `resource` is closed when the test ends, before the fds (it may hold some of them). */
  own<T extends { close(): void }>(resource: T): T {
    this.#closers.push(() => resource.close());
    return resource;
  }

  close(fd: number): void {
    this.#open.delete(fd);
    os.close(fd);
  }

  closeAll(): void {
    for (const close of this.#closers.splice(0)) close();
    for (const fd of this.#open) closeQuietly(fd);
    this.#open.clear();
  }
}

/** A free fd number in [from, to): nothing is open there right now. */
export function freeFdNumber(from: number, to: number): number {
  const open = openFdNumbers();
  for (let fd = from; fd < to; fd++) if (!open.has(fd)) return fd;
  throw new Error(`no free fd number in [${from}, ${to})`);
}

/** The number of a just-closed fd in [from, to), chosen high so that nothing reuses it while the test runs. */
export function makeBadFd(from: number, to: number): number {
  const [r, w] = os.pipe();
  const bad = os.dup2(r, freeFdNumber(from, to));
  os.close(r);
  os.close(w);
  os.close(bad);
  return bad;
}

/** Reads whatever a non-blocking fd holds, up to end of file or until it would block. */
export function drain(fd: number): string {
  let text = '';
  for (;;) {
    try {
      const chunk = os.read(fd, 65536);
      if (chunk.length === 0) return text;
      text += chunk.toString();
    } catch (err) {
      if (err instanceof OSError && err.code === 'EAGAIN') return text;
      throw err;
    }
  }
}

/** A new directory under the system's temporary one, removed with its contents when the test ends. */
export function tempDir(t: After, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Fails the file (in an `after` hook) if its tests together left more or fewer fds open than there were
 * before the first one, after giving late closes a second to land. With `openHandles`, the handles it
 * counts (iomux/loop's poll handles) must also be back to 0.
 */
export function expectNoFdLeaks(options: { openHandles?: () => number } = {}): void {
  const openHandles = options.openHandles ?? ((): number => 0);
  let fdsAtStart = 0;
  before(async () => {
    // Let Node open what it opens lazily (child-process and signal plumbing) before counting.
    await runNode(['-e', '']);
    catchSignals('SIGUSR2').release();
    fdsAtStart = fdCount();
  });
  after(async () => {
    for (let i = 0; i < 50 && (fdCount() !== fdsAtStart || openHandles() !== 0); i++) await sleep(20);
    if (options.openHandles) assert.equal(openHandles(), 0, 'poll handles left open by this file');
    assert.equal(fdCount(), fdsAtStart, `fds leaked by this file: ${readdirSync('/proc/self/fd').join(' ')}`);
  });
}
