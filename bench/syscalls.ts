/**
 * Cost per call of the readiness waits with a zero timeout — epoll.poll(0), epoll.wait(0), poll.poll(0) and
 * select(…, 0) — at 1, 100 and 1000 registered pipe fds, next to the raw native calls underneath them.
 * Run with `npm run bench:syscalls` (options after `--`, see `--help`); prints Markdown tables.
 *
 * Two states per size: "idle" (read ends of empty pipes: nothing is ready, so the cost is the scan) and
 * "ready" (write ends of empty pipes: every fd is ready, so the cost includes building the result).
 * The watched fds are laid out at the lowest numbers (their other ends are moved above 4096) so that select()
 * can watch as many of them as fit under FD_SETSIZE.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Epoll, EPOLLIN, EPOLLOUT, FD_SETSIZE, Poll, POLLIN, POLLOUT, select } from 'iomux/select';
import * as os from 'iomux/os';
import { CMSG_SPACE, SCM_RIGHTS, SOL_SOCKET, socketpair } from 'iomux/socket';
// The raw natives are not a public entry point. They come through the package's private import map
// ("#internal/*" → dist/*), so this is the same copy of the library as 'iomux/select' above: a second copy
// (say from ../src) would register koffi's struct types twice and fail with "Duplicate type name".
import { intOption, runCommand, type CommandSpec } from '#internal/cmdline/args.js';
import * as sys from '#internal/sys/index.js';

const SIZES = [1, 100, 1000];
let BATCH_NS = 20e6; // each timed batch lasts about 20 ms (--batch-ms)
let BATCHES = 7; // the median of these is reported (--batches)

const spec: CommandSpec = {
  program: 'bench',
  name: 'syscalls',
  summary: 'Cost per call of the zero-timeout readiness waits at 1, 100 and 1000 fds, and of the raw natives.',
  options: {
    batches: { type: 'string', metavar: 'N', help: 'timed batches per figure, the median is reported (default 7)' },
    'batch-ms': { type: 'string', metavar: 'MS', help: 'milliseconds each batch lasts at least (default 20)' },
  },
};

/** Median nanoseconds per call of `fn`, over BATCHES batches sized to last about BATCH_NS each. */
function nsPerCall(fn: () => unknown): number {
  let n = 16;
  while (n < 2 ** 40 && timeBatch(fn, n) < BATCH_NS) n *= 2; // also warms the JIT up
  const perCall: number[] = [];
  for (let b = 0; b < BATCHES; b++) perCall.push(timeBatch(fn, n) / n);
  perCall.sort((a, b) => a - b);
  return perCall[BATCHES >> 1]!;
}

function timeBatch(fn: () => unknown, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0);
}

interface Layout {
  /** The fds under test: contiguous, at the lowest free numbers. */
  watched: number[];
  /** Every fd opened, for closing. */
  all: number[];
}

/**
 * `n` pipes whose read ends (state "idle") or write ends (state "ready") are the watched fds; the other
 * end of each pipe is moved to a high number so that the watched ones stay contiguous and low.
 */
function makeLayout(n: number, state: 'idle' | 'ready'): Layout {
  const watched: number[] = [];
  const all: number[] = [];
  for (let i = 0; i < n; i++) {
    const [r, w] = os.pipe();
    const [keep, move] = state === 'idle' ? [r, w] : [w, r];
    const moved = os.dup2(move, 4096 + i, false);
    os.close(move);
    watched.push(keep);
    all.push(keep, moved);
  }
  return { watched, all };
}

interface Row {
  label: string;
  values: Array<number | string>;
}

function measureSize(n: number, state: 'idle' | 'ready'): Row {
  const layout = makeLayout(n, state);
  const { watched } = layout;
  try {
    const epMask = state === 'idle' ? EPOLLIN : EPOLLOUT;
    const pollMask = state === 'idle' ? POLLIN : POLLOUT;
    const expected = state === 'idle' ? 0 : n;

    const ep = new Epoll();
    for (const fd of watched) ep.register(fd, epMask);
    const maxevents = Math.max(n, 1);
    const p = new Poll();
    for (const fd of watched) p.register(fd, pollMask);
    const raw = sys.allocPollfds(n);
    watched.forEach((fd, i) => sys.setPollfd(raw, i, fd, pollMask));
    const rawEvents = sys.allocEpollEvents(maxevents);
    const epfd = ep.fileno();
    const selectable = watched.filter((fd) => fd < FD_SETSIZE);
    const [rlist, wlist] = state === 'idle' ? [selectable, []] : [[], selectable];

    // Check once that every call sees what we think it sees, so the figures measure the intended work.
    const checks: Array<[string, number]> = [
      ['epoll.poll', ep.poll(0, maxevents).length],
      ['epoll.wait', ep.wait(0, maxevents)],
      ['sys.epollWait', sys.epollWait(epfd, rawEvents, maxevents, 0)],
      ['poll.poll', p.poll(0).length],
      ['sys.poll', sys.poll(raw, n, 0)],
    ];
    for (const [what, got] of checks) {
      if (got !== expected) throw new Error(`${what} with ${n} ${state} fds returned ${got}, expected ${expected}`);
    }
    const [sr, sw] = select(rlist, wlist, [], 0);
    if (sr.length + sw.length !== (state === 'idle' ? 0 : selectable.length)) throw new Error('select() disagrees');

    const values = [
      nsPerCall(() => ep.poll(0, maxevents)),
      nsPerCall(() => ep.wait(0, maxevents)),
      nsPerCall(() => sys.epollWait(epfd, rawEvents, maxevents, 0)),
      nsPerCall(() => p.poll(0)),
      nsPerCall(() => sys.poll(raw, n, 0)),
      nsPerCall(() => select(rlist, wlist, [], 0)),
      String(selectable.length),
    ];
    ep.close();
    return { label: `${n} ${state}`, values };
  } finally {
    for (const fd of layout.all) os.close(fd);
  }
}

function fmt(v: number | string): string {
  if (typeof v === 'string') return v;
  return v >= 10_000 ? `${(v / 1000).toFixed(1)} µs` : `${Math.round(v)} ns`;
}

function table(header: string[], rows: Row[]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.label} | ${row.values.map(fmt).join(' | ')} |`);
  return lines.join('\n');
}

/** The target: sendmsg + recvmsg passing one fd (and closing it) at most this many times send + recv. */
const MESSAGE_TARGET = 2;

/**
 * Nanoseconds per call of several functions measured interleaved, batch by batch, so that a change of the
 * machine's load hits all of them alike: the median per function, and the median over batches of each one's
 * cost relative to the first one in the same batch. (Wall time: process.cpuUsage() would count Node's
 * compiler and GC threads too.)
 */
function interleaved(fns: Array<() => unknown>): { costs: number[]; ratios: number[] } {
  const sizes = fns.map((fn) => {
    let n = 16;
    while (n < 2 ** 40 && timeBatch(fn, n) < BATCH_NS) n *= 2; // also warms the JIT up
    return n;
  });
  const perCall: number[][] = fns.map(() => []);
  const ratio: number[][] = fns.map(() => []);
  for (let b = 0; b < BATCHES; b++) {
    fns.forEach((fn, i) => perCall[i]!.push(timeBatch(fn, sizes[i]!) / sizes[i]!));
    fns.forEach((_, i) => ratio[i]!.push(perCall[i]![b]! / perCall[0]![b]!));
  }
  return { costs: perCall.map(median), ratios: ratio.map(median) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/**
 * A message of 64 bytes over an AF_UNIX stream socketpair, sent and received in the same thread: plain
 * send + recvInto, sendmsg + recvmsg without ancillary data, and sendmsg + recvmsg passing one fd. The
 * received duplicate is closed each round: a receiver must close every fd it is given sooner or later, so the
 * close is part of what passing an fd costs (bench/msg-floor.c measures the same in C, with and without it).
 */
function measureMessages(): { rows: Row[]; ratio: number } {
  const [a, b] = socketpair();
  const [r, w] = os.pipe();
  try {
    const data = Buffer.alloc(64, 0x61);
    const into = Buffer.alloc(64);
    const fdData = Buffer.from(new Int32Array([w]).buffer);
    const anc: Array<[number, number, Buffer]> = [[SOL_SOCKET, SCM_RIGHTS, fdData]];
    const buffers = [data];
    const space = CMSG_SPACE(4);
    const { costs, ratios } = interleaved([
      () => {
        a.send(data);
        return b.recvInto(into);
      },
      () => {
        a.sendmsg(buffers);
        return b.recvmsg(64);
      },
      () => {
        a.sendmsg(buffers, anc);
        const got = b.recvmsg(64, space)[1][0]![2];
        os.close(got.readInt32LE(0));
      },
    ]);
    const labels = ['send + recvInto (64 bytes)', 'sendmsg + recvmsg, no ancillary data', 'sendmsg + recvmsg with one fd (+ close)'];
    const rows: Row[] = labels.map((label, i) => ({
      label,
      values: [costs[i]!, `${ratios[i]!.toFixed(2)}×`],
    }));
    return { rows, ratio: ratios[2]! };
  } finally {
    a.close();
    b.close();
    os.close(r);
    os.close(w);
  }
}

/**
 * The same pairs in C (bench/msg-floor.c), compiled with the first C compiler found: what the kernel alone
 * costs, the floor under the ratios above; `missing` says why not when there is no compiler or it fails.
 */
function measureFloorInC(): { rows: Row[]; onefd: number } | { missing: string } {
  const source = fileURLToPath(new URL('../../bench/msg-floor.c', import.meta.url));
  if (!existsSync(source)) return { missing: `${source} not found` };
  const dir = mkdtempSync(join(tmpdir(), 'iomux-msg-floor-'));
  try {
    const exe = join(dir, 'msg-floor');
    let compiled = false;
    for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter((c): c is string => !!c)) {
      if (spawnSync(cc, ['-O2', '-o', exe, source], { stdio: 'ignore' }).status === 0) {
        compiled = true;
        break;
      }
    }
    if (!compiled) return { missing: 'no C compiler (cc, gcc, clang) could build bench/msg-floor.c' };
    const run = spawnSync(exe, [String(BATCHES), String(BATCH_NS / 1e6)], { encoding: 'utf8' });
    if (run.status !== 0) return { missing: `bench/msg-floor failed: ${run.stderr.trim()}` };
    // Lines "name wall_ns cpu_ns" and "ratio name wall cpu"; the wall figures, as the JavaScript rows.
    const cost = new Map<string, number>();
    const ratio = new Map<string, number>();
    for (const line of run.stdout.trim().split('\n')) {
      const f = line.split(' ');
      if (f[0] === 'ratio') ratio.set(f[1]!, Number(f[2]));
      else cost.set(f[0]!, Number(f[1]));
    }
    const row = (label: string, name: string): Row => ({ label, values: [cost.get(name)!, `${(ratio.get(name) ?? 1).toFixed(2)}×`] });
    return {
      rows: [
        row('send + recv (64 bytes)', 'plain'),
        row('sendmsg + recvmsg, no ancillary data', 'nofd'),
        row('sendmsg + recvmsg with one fd (+ close)', 'onefd'),
        row('sendmsg + recvmsg with one fd, close not timed', 'noclose'),
      ],
      onefd: ratio.get('onefd')!,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measure(): void {
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
  const started = Date.now();

  const closedFd = nsPerCall(() => sys.close(-1));
  if (sys.close(-1) !== -sys.ERRNO.EBADF!) throw new Error('close(-1) did not fail with EBADF');
  const getpid = nsPerCall(() => sys.getpid());
  const noop = nsPerCall(() => Math.max(1, 2));
  const emptyEpoll = new Epoll();
  const emptyEvents = sys.allocEpollEvents(1);
  const epfd = emptyEpoll.fileno();
  const emptyWait = nsPerCall(() => sys.epollWait(epfd, emptyEvents, 1, 0));
  emptyEpoll.close();

  const rows: Row[] = [];
  for (const state of ['idle', 'ready'] as const) for (const n of SIZES) rows.push(measureSize(n, state));

  const messages = measureMessages();
  const floor = measureFloorInC();

  const loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
  const out = [
    `# iomux syscall costs`,
    '',
    `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ` +
      `load average before ${loadBefore}, after ${loadAfter}; ${((Date.now() - started) / 1000).toFixed(1)} s.`,
    `Median of ${BATCHES} batches of about ${BATCH_NS / 1e6} ms each; nanoseconds per call.`,
    '',
    '## Raw native calls (src/sys, koffi)',
    '',
    table(['call', 'cost'], [
      { label: 'JS call of a trivial function (floor)', values: [noop] },
      { label: 'getpid() (cheapest real syscall)', values: [getpid] },
      { label: 'close(-1) → -EBADF (failing call + errno read)', values: [closedFd] },
      { label: 'epoll_wait(empty epoll, 1, 0)', values: [emptyWait] },
    ]),
    '',
    '## Zero-timeout waits by number of registered fds',
    '',
    '"idle": nothing ready (read ends of empty pipes). "ready": every fd ready (write ends), so the result',
    'has one entry per fd. `sys.*` columns are the bare native call on a prepared buffer, without the',
    'wrapper. select() watches only the fds below FD_SETSIZE; the last column says how many that was.',
    '',
    table(['fds, state', 'epoll.poll(0)', 'epoll.wait(0)', 'sys.epollWait', 'poll.poll(0)', 'sys.poll',
      'select(…, 0)', 'select fds'], rows),
    '',
    '## Messages with ancillary data (AF_UNIX stream socketpair, one thread)',
    '',
    'The three pairs run interleaved, batch by batch; a ratio is the median over batches of the pair against',
    'send + recv in the same batch, which a change of the machine\'s load moves less than the costs.',
    '',
    table(['pair of calls', 'cost', 'vs send + recv'], messages.rows),
    '',
    `Target: sendmsg + recvmsg with one fd (+ close) at most ${MESSAGE_TARGET}× send + recv: ` +
      `${messages.ratio.toFixed(2)}× — ${messages.ratio <= MESSAGE_TARGET ? 'met' : 'MISS'}.`,
    '',
    'The same pairs in C (bench/msg-floor.c, no FFI, no JavaScript): the kernel\'s own cost, the floor under the ratio.',
    '',
    ...('missing' in floor
      ? [`Not measured: ${floor.missing}.`]
      : [
        table(['pair of calls (C)', 'cost', 'vs send + recv'], floor.rows),
        '',
        `Kernel floor of the target ratio: ${floor.onefd.toFixed(2)}× in C; iomux ${messages.ratio.toFixed(2)}× ` +
          `(${messages.ratio >= floor.onefd ? '+' : '−'}${Math.abs(messages.ratio - floor.onefd).toFixed(2)}).`,
      ]),
    '',
  ];
  console.log(out.join('\n'));
}

/** `bench syscalls` (`npm run bench:syscalls`). */
export function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async (args) => {
    BATCHES = intOption(args, 'batches', BATCHES, 1, 1000);
    BATCH_NS = intOption(args, 'batch-ms', BATCH_NS / 1e6, 1, 10_000) * 1e6;
    measure();
    return 0;
  });
}
