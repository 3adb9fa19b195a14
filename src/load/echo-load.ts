/**
 * The echo load generator behind `iomux echo-bench`: a closed loop over iomux's own epoll and non-blocking
 * sockets, in one thread.
 *
 * - `idle` connections are opened first and stay silent through warmup and measurement; afterwards each sends
 *   one 8-byte probe that must come back, which proves the server really served it.
 * - `connections` active connections each keep `depth` messages of `size` bytes in flight: when one has fully
 *   come back the next is queued (all messages that fit are written with one send).
 * - Every echoed byte is checked against what was sent (see messages.ts).
 * - Latency of a message: from the send() that carried its first byte to the recv() that delivered its last,
 *   so in pipelined runs it includes queueing behind the other messages in flight.
 * - Phases: connect (≤ 10 s) → warmup → measured window → drain (≤ 2 s) → idle probes (≤ 5 s). Only messages
 *   completed inside the window count; bytes sent but never echoed are "missing".
 *
 * The hot path (wait → recv → verify → refill → send) allocates nothing: one receive buffer, one output
 * buffer per connection, Epoll.wait() with readyFd()/readyEvents().
 */
import { performance } from 'node:perf_hooks';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { OSError } from '../errors.js';
import { Epoll, EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT } from '../select/index.js';
import {
  AF_INET, AF_INET6, IPPROTO_TCP, SOCK_STREAM, SOL_SOCKET, SO_ERROR, Socket, TCP_NODELAY,
} from '../socket/index.js';
import { LatencyHistogram } from './histogram.js';
import { MessageCodec } from './messages.js';
import { busyPercent, cpuJiffies, processTreeCpuSeconds } from './proc.js';

export interface EchoBenchOptions {
  host: string;
  port: number;
  connections: number;
  depth: number;
  size: number;
  /** Measured seconds. */
  duration: number;
  /** Seconds of load before the measured window. */
  warmup: number;
  idle: number;
  /** Sample this process's (and its descendants') CPU time at the window's edges. */
  serverPid?: number;
  /** Called about every 200 ms while the run lasts. */
  onProgress?: (p: EchoBenchProgress) => void;
}

export interface EchoBenchProgress {
  phase: 'connect' | 'warmup' | 'measure' | 'drain' | 'probe';
  /** 0..1 of connect + warmup + duration. */
  fraction: number;
  /** Messages completed since the previous report, per second. */
  msgsPerS: number;
  verifiedBytes: number;
  connected: number;
}

/** One run's figures. The keys are those of echoload's `--json` (the C load generator of the project's benchmarks), plus a few of its own. */
export interface EchoBenchResult {
  tool: 'iomux echo-bench';
  host: string;
  port: number;
  conns: number;
  depth: number;
  size: number;
  idle: number;
  warmup_s: number;
  duration_s: number;
  window_s: number;
  msgs: number;
  msgs_per_s: number;
  mb_per_s: number;
  lat_p50_us: number;
  lat_p90_us: number;
  lat_p99_us: number;
  lat_p999_us: number;
  lat_min_us: number;
  lat_max_us: number;
  lat_mean_us: number;
  connect_errors: number;
  connect_timeouts: number;
  resets: number;
  eof_early: number;
  other_errors: number;
  corrupt_bytes: number;
  missing_bytes: number;
  extra_bytes: number;
  /** Echoed bytes compared with what was sent, over the whole run (warmup, window, drain, probes). */
  verified_bytes: number;
  active_connected: number;
  idle_connected: number;
  idle_closed: number;
  idle_probe_ok: number;
  client_cpu_pct: number;
  server_cpu_us: number;
  server_cpu_pct: number;
  server_cpu_us_per_msg: number;
  /** Busy % of every CPU over the window (/proc/stat; includes other processes), as echoload reports it. */
  cpu_busy_pct: number[];
  /** "ok", "errors" (connections, missing bytes, probes, nothing completed) or "corrupt" (wrong or extra bytes). */
  status: 'ok' | 'errors' | 'corrupt';
  /** The first few problems, in words; one failure shared by many connections is one entry with their count. */
  problems: string[];
}

const PROBE_SIZE = 8;
/** Different problems kept for the result (the same one again only counts). */
const MAX_PROBLEMS = 10;
const MAX_PENDING_CONNECTS = 256;
const CONNECT_BUDGET_MS = 10_000;
const DRAIN_BUDGET_MS = 2_000;
const PROBE_BUDGET_MS = 5_000;
const RECV_BUFFER_BYTES = 256 * 1024;
const PROGRESS_EVERY_MS = 200;
/** A connect still under way: EINPROGRESS or EALREADY, by name (the numbers are the platform's). */
function connectPending(err: number): boolean {
  if (err === 0) return false;
  const code = new OSError(err).code;
  return code === 'EINPROGRESS' || code === 'EALREADY';
}

const enum State {
  New,
  Connecting,
  Open,
  Dead,
}

type Phase = EchoBenchProgress['phase'] | 'done';

/** One connection's send and verify state; all its buffers are allocated once. */
class Conn {
  readonly id: number;
  readonly idle: boolean;
  readonly size: number;
  readonly depth: number;
  sock: Socket | null = null;
  fd = -1;
  state = State.New;
  /** Queued output: bytes [outStart, outEnd) of `out` are still to be sent. */
  readonly out: Buffer;
  outStart = 0;
  outEnd = 0;
  /** Messages queued so far (the next message's sequence number). */
  queued = 0;
  /** Messages whose first byte has been sent; their send times, by sequence number modulo depth. */
  started = 0;
  readonly sentAt: Float64Array;
  /** Bytes handed to the kernel so far. */
  txBytes = 0;
  /** Echoed bytes received and checked so far: `rxMsg` whole messages, then `rxPos` bytes of the next. */
  rxBytes = 0;
  rxMsg = 0;
  rxPos = 0;
  wantOut = false;

  constructor(id: number, idle: boolean, size: number, depth: number) {
    this.id = id;
    this.idle = idle;
    this.size = size;
    this.depth = depth;
    this.out = Buffer.allocUnsafe(size * depth);
    this.sentAt = new Float64Array(depth);
  }
}

/**
 * Why an operation failed, in words: an OSError's "[Errno 111] Connection refused" with its errno name,
 * "(ECONNREFUSED)", as the CLI reports errors (src/cli/failures.ts, which this layer cannot import).
 */
function reason(err: unknown): string {
  if (err instanceof OSError) return err.code === undefined ? err.message : `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/** Resolves `host` once (connections then use the numeric address). */
async function resolve(host: string): Promise<{ address: string; family: number }> {
  if (isIP(host) === 4) return { address: host, family: AF_INET };
  if (isIP(host) === 6) return { address: host, family: AF_INET6 };
  const found = await lookup(host);
  return { address: found.address, family: found.family === 6 ? AF_INET6 : AF_INET };
}

class Run {
  readonly o: EchoBenchOptions;
  readonly ep = new Epoll();
  readonly codec: MessageCodec;
  readonly conns: Conn[] = [];
  /** fd → connection (sparse). */
  readonly byFd: Array<Conn | undefined> = [];
  readonly rbuf = Buffer.allocUnsafe(RECV_BUFFER_BYTES);
  readonly hist = new LatencyHistogram();
  /** Problem → the first connection it happened to (null: not a connection's) and how many it happened to. */
  readonly problems = new Map<string, { first: number | null; count: number }>();
  address: [string, number] | [string, number, number, number] = ['', 0];
  family = AF_INET;

  phase: Phase = 'connect';
  nextConnect = 0;
  pendingConnects = 0;
  /** performance.now() times of the phase edges. */
  startMs = 0;
  windowStartMs = Infinity;
  windowEndMs = Infinity;

  msgs = 0;
  bytes = 0;
  verified = 0;
  counters = {
    connectErrors: 0, connectTimeouts: 0, resets: 0, eofEarly: 0, otherErrors: 0, corrupt: 0, extra: 0,
    activeConnected: 0, idleConnected: 0, idleClosed: 0, probeOk: 0,
  };
  completedSinceReport = 0;

  constructor(o: EchoBenchOptions) {
    this.o = o;
    this.codec = new MessageCodec(Math.max(o.size, PROBE_SIZE));
    for (let i = 0; i < o.idle; i++) this.conns.push(new Conn(i, true, PROBE_SIZE, 1));
    for (let i = 0; i < o.connections; i++) this.conns.push(new Conn(o.idle + i, false, o.size, o.depth));
  }

  /** A problem of the run; the first MAX_PROBLEMS different ones are kept. */
  problem(text: string, connection: number | null = null): void {
    const seen = this.problems.get(text);
    if (seen !== undefined) seen.count++;
    else if (this.problems.size < MAX_PROBLEMS) this.problems.set(text, { first: connection, count: 1 });
  }

  /** What went wrong on connection `id`: the same words for many connections make one line with a count. */
  connectionProblem(id: number, what: string): void {
    this.problem(what, id);
  }

  problemLines(): string[] {
    return [...this.problems].map(([what, { first, count }]) =>
      first === null ? what : count === 1 ? `connection ${first}: ${what}` : `${count} connections: ${what}`);
  }

  // --- connecting

  startConnect(c: Conn): void {
    let sock: Socket;
    try {
      sock = new Socket(this.family, SOCK_STREAM);
    } catch (err) {
      this.counters.connectErrors++;
      c.state = State.Dead;
      const why = err instanceof OSError && err.code === 'EMFILE'
        ? `${reason(err)}: raise \`ulimit -n\` or use fewer --idle connections` : reason(err);
      this.connectionProblem(c.id, `cannot create a socket: ${why}`);
      return;
    }
    c.sock = sock;
    c.fd = sock.fileno();
    try {
      sock.setblocking(false);
      sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      const err = sock.connectEx(this.address);
      if (err !== 0 && !connectPending(err)) {
        this.counters.connectErrors++;
        this.connectionProblem(c.id, `connect: ${reason(new OSError(err))}`);
        this.kill(c);
        return;
      }
    } catch (err) {
      this.counters.connectErrors++;
      this.connectionProblem(c.id, `connect: ${reason(err)}`);
      this.kill(c);
      return;
    }
    c.state = State.Connecting;
    this.pendingConnects++;
    this.byFd[c.fd] = c;
    // Completion, even an immediate one, is reported as writability.
    this.ep.register(c.fd, EPOLLOUT);
    c.wantOut = true;
  }

  connectMore(): void {
    while (this.nextConnect < this.conns.length && this.pendingConnects < MAX_PENDING_CONNECTS) {
      this.startConnect(this.conns[this.nextConnect++]!);
    }
  }

  connected(c: Conn): void {
    const err = c.sock!.getsockopt(SOL_SOCKET, SO_ERROR) as number;
    if (connectPending(err)) return;
    this.pendingConnects--;
    if (err !== 0) {
      this.counters.connectErrors++;
      this.connectionProblem(c.id, `connect: ${reason(new OSError(err))}`);
      c.state = State.Dead;
      this.kill(c);
      return;
    }
    c.state = State.Open;
    if (c.idle) this.counters.idleConnected++;
    else this.counters.activeConnected++;
    this.setWantOut(c, false);
    if (!c.idle && (this.phase === 'warmup' || this.phase === 'measure')) this.pump(c);
  }

  // --- traffic

  setWantOut(c: Conn, want: boolean): void {
    if (c.wantOut === want) return;
    c.wantOut = want;
    this.ep.modify(c.fd, want ? EPOLLIN | EPOLLOUT : EPOLLIN);
  }

  /** Queues messages until `depth` are in flight (none after the window), then sends what is queued. */
  pump(c: Conn): void {
    if (this.phase === 'warmup' || this.phase === 'measure') {
      while (c.queued - c.rxMsg < c.depth) {
        if (c.outEnd + c.size > c.out.length) {
          c.out.copyWithin(0, c.outStart, c.outEnd);
          c.outEnd -= c.outStart;
          c.outStart = 0;
        }
        this.codec.write(c.out, c.outEnd, c.id, c.queued, c.size);
        c.outEnd += c.size;
        c.queued++;
      }
    }
    this.flush(c);
  }

  flush(c: Conn): void {
    while (c.outStart < c.outEnd) {
      // As echoload: a message's latency starts at the send() call that carries its first byte.
      const now = performance.now();
      let n: number;
      try {
        n = c.sock!.trySend(c.out, c.outStart, c.outEnd - c.outStart);
      } catch (err) {
        this.failed(c, err, 'sending');
        return;
      }
      if (n < 0) {
        this.setWantOut(c, true);
        return;
      }
      c.outStart += n;
      c.txBytes += n;
      // Messages whose first byte went out with this send start now.
      while (c.started < c.queued && c.started * c.size < c.txBytes) {
        c.sentAt[c.started % c.depth] = now;
        c.started++;
      }
    }
    c.outStart = c.outEnd = 0;
    this.setWantOut(c, false);
  }

  readable(c: Conn): void {
    for (let round = 0; round < 4 && c.state === State.Open; round++) {
      let n: number;
      try {
        n = c.sock!.tryRecvInto(this.rbuf);
      } catch (err) {
        this.failed(c, err, 'receiving');
        return;
      }
      if (n < 0) return;
      if (n === 0) {
        if (c.idle && this.phase !== 'probe') {
          this.counters.idleClosed++;
          this.problem(`idle connection ${c.id} was closed by the server`);
        } else if (c.rxBytes < c.txBytes || (!c.idle && this.phase !== 'drain')) {
          this.counters.eofEarly++;
          this.problem(`connection ${c.id} was closed by the server (${c.rxBytes} of ${c.txBytes} bytes echoed)`);
        }
        this.kill(c);
        return;
      }
      this.consume(c, n, performance.now());
      if (!c.idle) this.pump(c);
      if (n < this.rbuf.length) return;
    }
  }

  /** Checks `n` received bytes against the stream sent on `c`, completing messages. */
  consume(c: Conn, n: number, now: number): void {
    let at = 0;
    while (at < n) {
      const unsent = c.txBytes - c.rxBytes;
      if (unsent <= 0) {
        if (this.counters.extra === 0) this.problem(`connection ${c.id} received bytes that were never sent`);
        this.counters.extra += n - at;
        return;
      }
      let len = c.size - c.rxPos;
      if (len > n - at) len = n - at;
      if (len > unsent) len = unsent;
      const bad = this.codec.countBad(this.rbuf, at, len, c.id, c.rxMsg, c.rxPos);
      if (bad !== 0) {
        if (this.counters.corrupt === 0) this.problem(`connection ${c.id}: echoed bytes differ from the bytes sent`);
        this.counters.corrupt += bad;
      }
      this.verified += len;
      at += len;
      c.rxPos += len;
      c.rxBytes += len;
      if (c.rxPos === c.size) {
        if (c.idle) {
          this.counters.probeOk++;
        } else {
          this.completedSinceReport++;
          if (now >= this.windowStartMs && now < this.windowEndMs) {
            this.hist.record((now - c.sentAt[c.rxMsg % c.depth]!) * 1000);
            this.msgs++;
            this.bytes += c.size;
          }
        }
        c.rxMsg++;
        c.rxPos = 0;
      }
    }
  }

  failed(c: Conn, err: unknown, doing: string): void {
    const code = err instanceof OSError ? err.code : undefined;
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      this.counters.resets++;
      if (c.idle && this.phase !== 'probe') this.counters.idleClosed++;
    } else {
      this.counters.otherErrors++;
    }
    this.connectionProblem(c.id, `${doing}: ${reason(err)}`);
    this.kill(c);
  }

  kill(c: Conn): void {
    if (c.state === State.Connecting) this.pendingConnects--;
    c.state = State.Dead;
    if (c.sock) {
      this.byFd[c.fd] = undefined;
      // close() also drops the fd from the epoll set.
      c.sock.close();
      c.sock = null;
    }
  }

  dispatch(fd: number, events: number): void {
    const c = this.byFd[fd];
    if (!c) return;
    if (c.state === State.Connecting) {
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) this.connected(c);
      return;
    }
    if (c.state !== State.Open) return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) this.readable(c);
    if (c.state === State.Open && events & EPOLLOUT) this.flush(c);
  }

  /** Waits at most `ms` and handles what is ready. */
  turn(ms: number): void {
    const n = this.ep.wait(ms > 0 ? ms / 1000 : 0);
    for (let i = 0; i < n; i++) this.dispatch(this.ep.readyFd(i), this.ep.readyEvents(i));
  }

  connectedCount(): number {
    return this.counters.activeConnected + this.counters.idleConnected;
  }

  inFlight(): number {
    let missing = 0;
    for (const c of this.conns) if (c.state === State.Open && !c.idle) missing += c.txBytes - c.rxBytes;
    return missing;
  }

  progress(now: number, lastMs: number): void {
    const o = this.o;
    if (!o.onProgress) return;
    const spanMs = (o.warmup + o.duration) * 1000;
    const loadStartMs = this.windowStartMs - o.warmup * 1000;
    const fraction = this.phase === 'connect' ? 0 : Math.min(1, Math.max(0, (now - loadStartMs) / spanMs));
    const seconds = (now - lastMs) / 1000;
    o.onProgress({
      phase: this.phase === 'done' ? 'probe' : this.phase, fraction,
      msgsPerS: seconds > 0 ? this.completedSinceReport / seconds : 0,
      verifiedBytes: this.verified, connected: this.connectedCount(),
    });
    this.completedSinceReport = 0;
  }

  async run(): Promise<EchoBenchResult> {
    const o = this.o;
    const { address, family } = await resolve(o.host);
    this.family = family;
    this.address = family === AF_INET6 ? [address, o.port, 0, 0] : [address, o.port];

    this.startMs = performance.now();
    let lastReport = this.startMs;
    const reportDue = (now: number): void => {
      if (now - lastReport >= PROGRESS_EVERY_MS) {
        this.progress(now, lastReport);
        lastReport = now;
      }
    };

    // Connect: idle connections first, then the active ones.
    const connectDeadline = this.startMs + CONNECT_BUDGET_MS;
    this.connectMore();
    while (this.pendingConnects > 0 || this.nextConnect < this.conns.length) {
      const now = performance.now();
      if (now >= connectDeadline) break;
      this.turn(Math.min(50, connectDeadline - now));
      this.connectMore();
      reportDue(performance.now());
    }
    for (const c of this.conns) {
      if (c.state === State.Connecting || c.state === State.New) {
        this.counters.connectTimeouts++;
        this.connectionProblem(c.id, `not connected within ${CONNECT_BUDGET_MS / 1000} s`);
        this.kill(c);
      }
    }

    let cpuClient0 = process.cpuUsage();
    let jiffies0 = cpuJiffies();
    let cpuBusy: number[] = [];
    let cpuServer0: number | undefined;
    let windowS = 0;
    let clientCpuPct = -1;
    let serverCpuS: number | undefined;
    if (this.counters.activeConnected > 0) {
      // Warmup and the measured window.
      const t = performance.now();
      this.windowStartMs = t + o.warmup * 1000;
      this.windowEndMs = this.windowStartMs + o.duration * 1000;
      this.phase = 'warmup';
      if (o.warmup === 0) this.phase = 'measure';
      for (const c of this.conns) if (!c.idle && c.state === State.Open) this.pump(c);
      let measuring = false;
      const startWindow = (): void => {
        measuring = true;
        this.phase = 'measure';
        cpuClient0 = process.cpuUsage();
        jiffies0 = cpuJiffies();
        cpuServer0 = o.serverPid === undefined ? undefined : processTreeCpuSeconds(o.serverPid);
      };
      if (o.warmup === 0) startWindow();
      for (;;) {
        const now = performance.now();
        if (!measuring && now >= this.windowStartMs) startWindow();
        if (now >= this.windowEndMs) break;
        this.turn(Math.min(PROGRESS_EVERY_MS, (measuring ? this.windowEndMs : this.windowStartMs) - now));
        reportDue(performance.now());
      }
      const cpuClient = process.cpuUsage(cpuClient0);
      cpuBusy = busyPercent(jiffies0, cpuJiffies()).map((x) => Math.round(x * 10) / 10);
      const cpuServer1 = o.serverPid === undefined ? undefined : processTreeCpuSeconds(o.serverPid);
      windowS = o.duration;
      clientCpuPct = ((cpuClient.user + cpuClient.system) / 1e4) / windowS;
      if (cpuServer0 !== undefined && cpuServer1 !== undefined) serverCpuS = cpuServer1 - cpuServer0;

      // Drain what is still in flight.
      this.phase = 'drain';
      const drainDeadline = performance.now() + DRAIN_BUDGET_MS;
      while (this.inFlight() > 0 && performance.now() < drainDeadline) this.turn(Math.min(50, drainDeadline - performance.now()));
    } else {
      this.problem('no active connection could be established');
    }
    const missing = this.inFlight();
    if (missing > 0) this.problem(`${missing} bytes were sent but not echoed within ${DRAIN_BUDGET_MS / 1000} s after the window`);

    // Idle probes.
    this.phase = 'probe';
    let probing = 0;
    for (const c of this.conns) {
      if (!c.idle || c.state !== State.Open) continue;
      this.codec.write(c.out, 0, c.id, 0, PROBE_SIZE);
      c.outStart = 0;
      c.outEnd = PROBE_SIZE;
      c.queued = 1;
      this.flush(c);
      probing++;
    }
    const probeDeadline = performance.now() + PROBE_BUDGET_MS;
    while (probing > 0 && this.counters.probeOk < this.counters.idleConnected && performance.now() < probeDeadline) {
      let waiting = 0;
      for (const c of this.conns) if (c.idle && c.state === State.Open && c.rxMsg === 0) waiting++;
      if (waiting === 0) break;
      this.turn(Math.min(50, probeDeadline - performance.now()));
    }
    this.phase = 'done';
    return this.result(windowS, clientCpuPct, serverCpuS, missing, cpuBusy);
  }

  result(windowS: number, clientCpuPct: number, serverCpuS: number | undefined, missing: number, cpuBusy: number[]): EchoBenchResult {
    const o = this.o;
    const k = this.counters;
    const h = this.hist;
    const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;
    const idleFailed = k.idleConnected - k.probeOk;
    if (idleFailed > 0) this.problem(`${idleFailed} idle connections did not echo their probe`);
    const corrupt = k.corrupt > 0 || k.extra > 0;
    const errors = k.connectErrors + k.connectTimeouts + k.resets + k.eofEarly + k.otherErrors > 0 ||
      missing > 0 || idleFailed > 0 || this.msgs === 0;
    const serverUs = serverCpuS === undefined ? -1 : Math.round(serverCpuS * 1e6);
    return {
      tool: 'iomux echo-bench', host: o.host, port: o.port, conns: o.connections, depth: o.depth, size: o.size,
      idle: o.idle, warmup_s: o.warmup, duration_s: o.duration, window_s: windowS,
      msgs: this.msgs, msgs_per_s: windowS ? round(this.msgs / windowS, 1) : 0,
      mb_per_s: windowS ? round(this.bytes / 1e6 / windowS, 2) : 0,
      lat_p50_us: round(h.percentile(50), 1), lat_p90_us: round(h.percentile(90), 1),
      lat_p99_us: round(h.percentile(99), 1), lat_p999_us: round(h.percentile(99.9), 1),
      lat_min_us: round(h.min, 1), lat_max_us: round(h.max, 1), lat_mean_us: round(h.mean, 1),
      connect_errors: k.connectErrors, connect_timeouts: k.connectTimeouts, resets: k.resets,
      eof_early: k.eofEarly, other_errors: k.otherErrors, corrupt_bytes: k.corrupt, missing_bytes: missing,
      extra_bytes: k.extra, verified_bytes: this.verified, active_connected: k.activeConnected,
      idle_connected: k.idleConnected, idle_closed: k.idleClosed, idle_probe_ok: k.probeOk,
      client_cpu_pct: round(clientCpuPct, 1), server_cpu_us: serverUs,
      server_cpu_pct: serverCpuS === undefined || !windowS ? -1 : round((100 * serverCpuS) / windowS, 1),
      server_cpu_us_per_msg: serverCpuS === undefined || this.msgs === 0 ? -1 : round(serverUs / this.msgs, 3),
      cpu_busy_pct: cpuBusy,
      status: corrupt ? 'corrupt' : errors ? 'errors' : 'ok',
      problems: this.problemLines(),
    };
  }

  close(): void {
    for (const c of this.conns) if (c.sock) this.kill(c);
    this.ep.close();
  }
}

/** Runs the load generator once; every socket it opened is closed when it returns or throws. */
export async function runEchoBench(options: EchoBenchOptions): Promise<EchoBenchResult> {
  const run = new Run(options);
  try {
    return await run.run();
  } finally {
    run.close();
  }
}
