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
import { cpus, loadavg } from 'node:os';
import { Epoll, EPOLLIN, EPOLLOUT, FD_SETSIZE, Poll, POLLIN, POLLOUT, select } from 'iomux/select';
import * as os from 'iomux/os';
import { CMSG_SPACE, SCM_RIGHTS, SOL_SOCKET, socketpair } from 'iomux/socket';
// The raw natives are not a public entry point. They come through the package's private import map
// ("#internal/*" → dist/*), so this is the same copy of the library as 'iomux/select' above: a second copy
// (say from ../src) would register koffi's struct types twice and fail with "Duplicate type name".
import { intOption, runCommand, type CommandSpec } from '#internal/cli/args.js';
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

/**
 * A message of 64 bytes over an AF_UNIX stream socketpair, sent and received in the same thread: plain
 * send + recvInto, sendmsg + recvmsg without ancillary data, and sendmsg + recvmsg passing one fd (the
 * received duplicate is closed each round, as a real receiver would). The last column is the issue's
 * target: at most 2× the plain pair.
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
    const plain = nsPerCall(() => {
      a.send(data);
      return b.recvInto(into);
    });
    const noFd = nsPerCall(() => {
      a.sendmsg(buffers);
      return b.recvmsg(64);
    });
    const oneFd = nsPerCall(() => {
      a.sendmsg(buffers, anc);
      const got = b.recvmsg(64, space)[1][0]![2];
      os.close(got.readInt32LE(0));
    });
    const rows: Row[] = [
      { label: 'send + recvInto (64 bytes)', values: [plain, '1.00×'] },
      { label: 'sendmsg + recvmsg, no ancillary data', values: [noFd, `${(noFd / plain).toFixed(2)}×`] },
      { label: 'sendmsg + recvmsg with one fd (+ close)', values: [oneFd, `${(oneFd / plain).toFixed(2)}×`] },
    ];
    return { rows, ratio: oneFd / plain };
  } finally {
    a.close();
    b.close();
    os.close(r);
    os.close(w);
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
    table(['pair of calls', 'cost', 'vs send + recv'], messages.rows),
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
