/** `iomux echo-bench`: the closed-loop echo load generator on iomux's epoll (src/load/echo-load.ts). */
import { runEchoBench, type EchoBenchResult } from '../../load/echo-load.js';
import { num, sig } from '../../cmdline/format.js';
import { ProgressBar } from '../progress.js';
import { intOption, runCommand, secondsOption, stringOption, UsageError, type CommandSpec, type ParsedArgs } from '../../cmdline/args.js';
import { complain, errorText, isSystemError } from '../failures.js';

export const spec: CommandSpec = {
  name: 'echo-bench',
  summary:
    'A closed-loop load generator for a TCP echo server, written on iomux\'s own epoll and non-blocking sockets.\n' +
    'Each active connection keeps --depth messages of --size bytes in flight and sends the next when one has fully\n' +
    'come back; every echoed byte is checked against what was sent. --idle connections are opened first, stay\n' +
    'silent, and at the end each must echo an 8-byte probe. Prints messages/s, MB/s (10^6 bytes of echoed\n' +
    'payload) and latency percentiles (send of a message\'s first byte to receipt of its last, so queueing\n' +
    'behind the other in-flight messages is included); a progress bar on stderr when it is a terminal.',
  options: {
    host: { type: 'string', metavar: 'H', help: 'server address or name (default 127.0.0.1)' },
    port: { type: 'string', metavar: 'P', help: "server port (default 10000, the echo server's)" },
    connections: { type: 'string', metavar: 'N', help: 'active connections (default 50)' },
    depth: { type: 'string', metavar: 'D', help: 'messages in flight per active connection (default 16)' },
    size: { type: 'string', metavar: 'S', help: 'message size in bytes (default 64)' },
    duration: { type: 'string', metavar: 'SEC', help: 'measured seconds (default 5)' },
    warmup: { type: 'string', metavar: 'SEC', help: 'seconds of load before the measured window (default 1)' },
    idle: { type: 'string', metavar: 'K', help: 'idle connections (default 0)' },
    'server-pid': { type: 'string', metavar: 'PID', help: "also report that process's CPU time (with its descendants) per message" },
    json: { type: 'boolean', help: "print one JSON object (echoload's keys) instead of the summary" },
  },
  epilog: `Exit status: 0 ok; 1 connection errors, early close, missing bytes, failed probes or nothing echoed;
2 bad arguments; 3 corrupted or extra bytes received.`,
};

/** "12.3%", or why there is no figure (the JSON keeps echoload's -1 for "not measured"). */
function percent(value: number, what: string): string {
  return value < 0 ? `${what} not measured (no measured window)` : `${what} ${num(value)}%`;
}

function summary(r: EchoBenchResult): string {
  const lines = [
    `iomux echo-bench ${r.host}:${r.port}  connections=${r.conns} depth=${r.depth} size=${r.size} idle=${r.idle}` +
      `  warmup=${r.warmup_s}s duration=${r.duration_s}s`,
    `  rate         ${num(r.msgs_per_s)} msgs/s  ${num(r.mb_per_s, 1)} MB/s  (${num(r.msgs)} messages in the window)`,
    // Without a message in the window the histogram is empty: its zeros are no measurement.
    r.msgs === 0
      ? '  latency µs   not measured (no message came back)'
      : `  latency µs   p50 ${sig(r.lat_p50_us)}  p90 ${sig(r.lat_p90_us)}  p99 ${sig(r.lat_p99_us)}  ` +
        `p99.9 ${sig(r.lat_p999_us)}  max ${sig(r.lat_max_us)}  mean ${sig(r.lat_mean_us)}`,
    `  verified     ${num(r.verified_bytes)} echoed bytes; ${num(r.corrupt_bytes)} corrupt, ` +
      `${num(r.missing_bytes)} missing, ${num(r.extra_bytes)} extra`,
    `  connections  active ${r.active_connected}/${r.conns}` +
      (r.idle ? `, idle ${r.idle_connected}/${r.idle} (probes echoed ${r.idle_probe_ok}, closed by server ${r.idle_closed})` : '') +
      `; connect errors ${r.connect_errors + r.connect_timeouts}, resets ${r.resets}, early close ${r.eof_early}`,
    `  cpu          ${percent(r.client_cpu_pct, 'client')}` +
      (r.server_cpu_us < 0 ? '' : r.server_cpu_us_per_msg < 0 ? `, ${percent(r.server_cpu_pct, 'server')}`
        : `, server ${num(r.server_cpu_pct)}% = ${sig(r.server_cpu_us_per_msg)} µs per message`),
    `  status       ${r.status}`,
  ];
  for (const p of r.problems) lines.push(`    - ${p}`);
  return `${lines.join('\n')}\n`;
}

/**
 * When not one connection could be made, the one line that says why: the first connection failure of the
 * problems ("connection 3: connect: …" or "50 connections: connect: …") and how many failed. Null when
 * some connected.
 */
function noConnection(r: EchoBenchResult): string | null {
  if (r.active_connected + r.idle_connected > 0) return null;
  const total = r.conns + r.idle;
  let why = 'no connection could be established';
  for (const p of r.problems) {
    const m = /^(?:connection \d+|\d+ connections): (?:connect: )?(.+)$/.exec(p);
    if (m) {
      why = m[1]!;
      break;
    }
  }
  return `cannot connect to ${r.host} port ${r.port}: ${why}, ${r.connect_errors + r.connect_timeouts} of ${total} connections`;
}

async function run(args: ParsedArgs): Promise<number> {
  const options = {
    host: stringOption(args, 'host', '127.0.0.1'),
    port: intOption(args, 'port', 10_000, 1, 65_535),
    connections: intOption(args, 'connections', 50, 1, 100_000),
    depth: intOption(args, 'depth', 16, 1, 65_536),
    size: intOption(args, 'size', 64, 1, 16 * 1024 * 1024),
    duration: secondsOption(args, 'duration', 5, 0.01, 86_400),
    warmup: secondsOption(args, 'warmup', 1, 0, 86_400),
    idle: intOption(args, 'idle', 0, 0, 1_000_000),
  };
  if (options.size * options.depth > 256 * 1024 * 1024) {
    throw new UsageError(`--size × --depth must be at most 256 MiB per connection (got ${options.size} × ${options.depth})`);
  }
  const serverPid = args.values['server-pid'] === undefined ? undefined : intOption(args, 'server-pid', 0, 1, 2 ** 22);

  const bar = process.stderr.isTTY ? new ProgressBar(process.stderr) : undefined;
  let result: EchoBenchResult;
  try {
    result = await runEchoBench({
      ...options,
      ...(serverPid === undefined ? {} : { serverPid }),
      ...(bar === undefined ? {} : {
        onProgress: (p) => bar.update(p.fraction, p.phase === 'connect'
          ? `connecting ${num(p.connected)}/${num(options.connections + options.idle)}`
          : `${p.phase} ${num(p.msgsPerS)} msgs/s, ${num(p.verifiedBytes / 1e6, 1)} MB verified`),
      }),
    });
  } catch (err) {
    // The run could not begin: the name does not resolve, no epoll. One line; a bug keeps its stack.
    if (!isSystemError(err)) throw err;
    const { syscall } = err as { syscall?: unknown };
    complain(spec.name, syscall === 'getaddrinfo' ? `cannot resolve ${options.host}: ${errorText(err)}` : errorText(err));
    return 1;
  } finally {
    bar?.clear();
  }
  process.stdout.write(args.values.json === true ? `${JSON.stringify(result)}\n` : summary(result));
  const unreachable = noConnection(result);
  if (unreachable !== null) complain(spec.name, unreachable);
  return result.status === 'ok' ? 0 : result.status === 'corrupt' ? 3 : 1;
}

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, run);
}
