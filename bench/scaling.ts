/**
 * The select/poll/epoll scaling benchmark: what one readiness wait costs when N descriptors are watched and
 * exactly one of them is ready (Kerrisk's experiment, LCA 2006 / TLPI table 63-9).
 *
 * The watched descriptors are both ends of N/2 pipes, all watched for input: a write end never becomes
 * readable and a read end only when a byte sits in it, so one byte left unread in one pipe keeps exactly one
 * descriptor ready. Watching both ends halves the descriptors a run needs (10,000 watched fds = 5,000 pipes).
 * The ready one sits in the middle of the watched set, where a randomly chosen one would be on average.
 *
 * Each wait goes through iomux's public API with a zero timeout, so the figure is what a caller pays:
 * `select()` (which also walks its argument list in JavaScript, as CPython's does), `Poll.poll()`
 * and the allocation-free `Epoll.wait()`.
 */
import { close, pipe, read, write } from 'iomux/os';
import { Epoll, EPOLLIN, FD_SETSIZE, Poll, POLLIN, select } from 'iomux/select';
import { OSError } from 'iomux/errors';

export type Mechanism = 'select' | 'poll' | 'epoll';
export const MECHANISMS: readonly Mechanism[] = ['select', 'poll', 'epoll'];

export interface ScalingPoint {
  mechanism: Mechanism;
  /** Watched descriptors. */
  fds: number;
  /** Median over the rounds of the mean CPU time (user + system) of one wait, in microseconds. */
  usPerWait: number;
  /** Fastest and slowest round, µs per wait. */
  minUs: number;
  maxUs: number;
  /** Waits timed in the shortest round. */
  waitsPerRound: number;
  rounds: number;
}

export interface ScalingOptions {
  /** Largest N (default 10,000). */
  maxFds?: number;
  /** Time spent timing each (mechanism, N) point, in ms, split over the rounds (default 300). */
  msPerPoint?: number;
  /** Timed rounds per point; the median is reported (default 5). */
  rounds?: number;
  /** Mechanisms to measure (default all three). */
  mechanisms?: readonly Mechanism[];
  /** Called after each point, for progress output. */
  onPoint?: (point: ScalingPoint) => void;
}

export interface ScalingResult {
  points: ScalingPoint[];
  /** The Ns that were measured, ascending. */
  counts: number[];
  /** The most descriptors select() could watch here (all below FD_SETSIZE). */
  selectLimit: number;
  options: { maxFds: number; msPerPoint: number; rounds: number };
}

/** 1, 2, 5, 10, 20, 50, … up to `max`, plus `max` itself when it is not on that grid. */
export function logSpacedCounts(max: number): number[] {
  const out: number[] = [];
  for (let decade = 1; decade <= max; decade *= 10) {
    for (const m of [1, 2, 5]) if (m * decade <= max) out.push(m * decade);
  }
  if (out[out.length - 1] !== max) out.push(max);
  return out;
}

/** Both ends of every pipe, in creation order: [r0, w0, r1, w1, …]. */
class PipeSet {
  readonly fds: number[] = [];

  grow(count: number): void {
    while (this.fds.length < count) {
      let ends: [number, number];
      try {
        ends = pipe();
      } catch (err) {
        if (err instanceof OSError && (err.code === 'EMFILE' || err.code === 'ENFILE')) {
          throw new OSError(err.errno, `out of file descriptors after ${this.fds.length} (raise the limit with ` +
            `\`ulimit -n\`, or use a smaller --max-fds): ${err.strerror}`);
        }
        throw err;
      }
      this.fds.push(ends[0], ends[1]);
    }
  }

  /** [read end, write end] of the pipe whose read end sits near the middle of the first `count` fds. */
  activePipe(count: number): [number, number] {
    const i = 2 * Math.floor(count / 4);
    return [this.fds[i]!, this.fds[i + 1]!];
  }

  close(): void {
    for (const fd of this.fds) close(fd);
    this.fds.length = 0;
  }
}

type WaitOnce = () => number;

/** A wait function over the first `count` fds of `pipes`; `release` undoes its registrations. */
function prepare(mechanism: Mechanism, fds: number[]): { wait: WaitOnce; release(): void } {
  switch (mechanism) {
    case 'select': {
      const rlist = fds.slice();
      const none: number[] = [];
      return { wait: () => select(rlist, none, none, 0)[0].length, release() {} };
    }
    case 'poll': {
      const p = new Poll();
      for (const fd of fds) p.register(fd, POLLIN);
      return { wait: () => p.poll(0).length, release() {} };
    }
    case 'epoll': {
      const ep = new Epoll();
      try {
        for (const fd of fds) ep.register(fd, EPOLLIN);
      } catch (err) {
        ep.close();
        throw err;
      }
      return { wait: () => ep.wait(0), release: () => ep.close() };
    }
  }
}

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Times `wait`: `rounds` rounds of about msPerPoint / rounds each, returning the CPU time (user + system,
 * µs) per call for each round and the smallest number of calls a round made. CPU time, as in Kerrisk's
 * table, rather than wall time: a round that another process preempts still measures the wait itself.
 * Throws if a wait does not see exactly one ready fd.
 */
function time(wait: WaitOnce, msPerPoint: number, rounds: number): { perRound: number[]; waits: number } {
  const check = (n: number): void => {
    if (n !== 1) throw new Error(`a wait reported ${n} ready descriptors instead of 1`);
  };
  // Estimate the cost of one call (this also warms the JIT up); the fastest trial is the least disturbed.
  let estimateMs = Infinity;
  for (let batch = 1, trials = 0; trials < 3; ) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) check(wait());
    const ms = performance.now() - t0;
    if (ms < 2 && batch < 1 << 24) {
      batch *= 2;
      continue;
    }
    estimateMs = Math.min(estimateMs, ms / batch);
    trials++;
  }
  // Read the clock about every half millisecond, so a round ends on time even if the machine is busy.
  const chunk = Math.max(1, Math.round(0.5 / estimateMs));
  const roundMs = msPerPoint / rounds;
  const perRound: number[] = [];
  let fewest = Infinity;
  for (let r = 0; r < rounds; r++) {
    let calls = 0;
    let ready = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    do {
      for (let i = 0; i < chunk; i++) ready += wait();
      calls += chunk;
    } while (performance.now() - t0 < roundMs);
    const cpu = process.cpuUsage(cpu0);
    check(ready / calls);
    perRound.push((cpu.user + cpu.system) / calls);
    fewest = Math.min(fewest, calls);
  }
  return { perRound, waits: fewest };
}

/**
 * Measures every (mechanism, N) point. select is measured only while all N fds are below FD_SETSIZE; if the
 * grid's last select-able N falls short of what fits, the largest N that fits is measured as an extra point.
 */
export function runScaling(options: ScalingOptions = {}): ScalingResult {
  const maxFds = options.maxFds ?? 10_000;
  const msPerPoint = options.msPerPoint ?? 300;
  const rounds = options.rounds ?? 5;
  const mechanisms = options.mechanisms ?? MECHANISMS;
  if (!Number.isInteger(maxFds) || maxFds < 1) throw new RangeError(`maxFds must be a positive integer (got ${maxFds})`);

  const pipes = new PipeSet();
  const points: ScalingPoint[] = [];
  let selectLimit = 0;
  try {
    pipes.grow(Math.min(maxFds, FD_SETSIZE));
    // Pipes are made lowest-fd-first, so the watched prefix that stays below FD_SETSIZE is contiguous.
    while (selectLimit < pipes.fds.length && pipes.fds[selectLimit]! < FD_SETSIZE) selectLimit++;
    selectLimit = Math.min(selectLimit, FD_SETSIZE - 1);

    const grid = logSpacedCounts(maxFds);
    const counts = [...grid];
    const lastSelectable = grid.filter((n) => n <= selectLimit).pop() ?? 0;
    const nextOnGrid = grid.find((n) => n > selectLimit);
    // Only worth a point of its own when it is clearly beyond the grid's last select-able N.
    if (mechanisms.includes('select') && nextOnGrid !== undefined && selectLimit > lastSelectable * 1.1) {
      counts.push(selectLimit);
      counts.sort((a, b) => a - b);
    }

    const oneByte = Buffer.from([1]);
    // Warm each wait path up (JIT tiers, first-call costs) before anything is timed, so the first
    // point is not slower than the next ones for reasons that have nothing to do with N.
    {
      pipes.grow(2);
      const [r, w] = pipes.activePipe(1);
      write(w, oneByte);
      try {
        for (const mechanism of mechanisms) {
          const { wait, release } = prepare(mechanism, [r]);
          try {
            const until = performance.now() + 100;
            while (performance.now() < until) for (let i = 0; i < 100; i++) wait();
          } finally {
            release();
          }
        }
      } finally {
        read(r, 1);
      }
    }
    for (const n of counts) {
      pipes.grow(n + (n % 2));
      const watched = pipes.fds.slice(0, n);
      const [activeRead, activeWrite] = pipes.activePipe(n);
      write(activeWrite, oneByte);
      try {
        for (const mechanism of mechanisms) {
          if (mechanism === 'select' && n > selectLimit) continue;
          // The extra select-only point is not measured for the others (they have the grid).
          if (mechanism !== 'select' && !grid.includes(n)) continue;
          const { wait, release } = prepare(mechanism, watched);
          try {
            const { perRound, waits } = time(wait, msPerPoint, rounds);
            const point: ScalingPoint = {
              mechanism, fds: n, usPerWait: median(perRound), minUs: Math.min(...perRound),
              maxUs: Math.max(...perRound), waitsPerRound: waits, rounds,
            };
            points.push(point);
            options.onPoint?.(point);
          } finally {
            release();
          }
        }
      } finally {
        read(activeRead, 1);
      }
    }
    return { points, counts: counts.filter((n) => points.some((p) => p.fds === n)), selectLimit,
      options: { maxFds, msPerPoint, rounds } };
  } finally {
    pipes.close();
  }
}

/** The point for (mechanism, N), if measured. */
export function pointAt(result: ScalingResult, mechanism: Mechanism, fds: number): ScalingPoint | undefined {
  return result.points.find((p) => p.mechanism === mechanism && p.fds === fds);
}
