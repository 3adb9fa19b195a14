/** `iomux echo-bench`: the closed-loop echo load generator on iomux's epoll (src/bench/echo-load.ts). */
import { intOption, numberOption, parse, runCommand, UsageError } from '../../bench/args.js';
import { runEchoBench, type EchoBenchResult } from '../../bench/echo-load.js';
import { num, sig } from '../../bench/format.js';
import { ProgressBar } from '../../bench/progress.js';

const USAGE = `usage: iomux echo-bench [--host 127.0.0.1] [--port 10000] [--connections 50] [--depth 16]
                        [--size 64] [--duration 5] [--warmup 1] [--idle 0] [--server-pid PID] [--json]

A closed-loop load generator for a TCP echo server, written on iomux's own epoll and non-blocking sockets.
Each active connection keeps --depth messages of --size bytes in flight and sends the next when one has fully
come back; every echoed byte is checked against what was sent. --idle connections are opened first, stay
silent, and at the end each must echo an 8-byte probe. Prints messages/s, MB/s (10^6 bytes of echoed
payload) and latency percentiles (send of a message's first byte to receipt of its last, so queueing
behind the other in-flight messages is included); a progress bar on stderr when it is a terminal.

  --host H          server address or name (default 127.0.0.1)
  --port P          server port (default 10000, the echo server's)
  --connections N   active connections (default 50)
  --depth D         messages in flight per active connection (default 16)
  --size S          message size in bytes (default 64)
  --duration SEC    measured seconds (default 5)
  --warmup SEC      seconds of load before the measured window (default 1)
  --idle K          idle connections (default 0)
  --server-pid PID  also report that process's CPU time (with its descendants) per message
  --json            print one JSON object (echoload's keys) instead of the summary

Exit status: 0 ok; 1 connection errors, early close, missing bytes, failed probes or nothing echoed;
2 bad arguments; 3 corrupted or extra bytes received.
`;

function summary(r: EchoBenchResult): string {
  const lines = [
    `iomux echo-bench ${r.host}:${r.port}  connections=${r.conns} depth=${r.depth} size=${r.size} idle=${r.idle}` +
      `  warmup=${r.warmup_s}s duration=${r.duration_s}s`,
    `  rate         ${num(r.msgs_per_s)} msgs/s  ${num(r.mb_per_s, 1)} MB/s  (${num(r.msgs)} messages in the window)`,
    `  latency µs   p50 ${sig(r.lat_p50_us)}  p90 ${sig(r.lat_p90_us)}  p99 ${sig(r.lat_p99_us)}  ` +
      `p99.9 ${sig(r.lat_p999_us)}  max ${sig(r.lat_max_us)}  mean ${sig(r.lat_mean_us)}`,
    `  verified     ${num(r.verified_bytes)} echoed bytes; ${num(r.corrupt_bytes)} corrupt, ` +
      `${num(r.missing_bytes)} missing, ${num(r.extra_bytes)} extra`,
    `  connections  active ${r.active_connected}/${r.conns}` +
      (r.idle ? `, idle ${r.idle_connected}/${r.idle} (probes echoed ${r.idle_probe_ok}, closed by server ${r.idle_closed})` : '') +
      `; connect errors ${r.connect_errors + r.connect_timeouts}, resets ${r.resets}, early close ${r.eof_early}`,
    `  cpu          client ${num(r.client_cpu_pct)}%` +
      (r.server_cpu_us >= 0 ? `, server ${num(r.server_cpu_pct)}% = ${sig(r.server_cpu_us_per_msg)} µs per message` : ''),
    `  status       ${r.status}`,
  ];
  for (const p of r.problems) lines.push(`    - ${p}`);
  return `${lines.join('\n')}\n`;
}

async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    host: { type: 'string' }, port: { type: 'string' }, connections: { type: 'string' }, depth: { type: 'string' },
    size: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, idle: { type: 'string' },
    'server-pid': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const host = values.host ?? '127.0.0.1';
  if (host === '') throw new UsageError('--host must not be empty');
  const options = {
    host,
    port: intOption('port', values.port, 10_000, 1, 65_535),
    connections: intOption('connections', values.connections, 50, 1, 100_000),
    depth: intOption('depth', values.depth, 16, 1, 65_536),
    size: intOption('size', values.size, 64, 1, 16 * 1024 * 1024),
    duration: numberOption('duration', values.duration, 5, 0.01, 86_400),
    warmup: numberOption('warmup', values.warmup, 1, 0, 86_400),
    idle: intOption('idle', values.idle, 0, 0, 1_000_000),
  };
  if (options.size * options.depth > 256 * 1024 * 1024) {
    throw new UsageError(`--size × --depth must be at most 256 MiB per connection (got ${options.size} × ${options.depth})`);
  }
  const serverPid = values['server-pid'] === undefined ? undefined : intOption('server-pid', values['server-pid'], 0, 1, 2 ** 22);

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
  } finally {
    bar?.clear();
  }
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : summary(result));
  return result.status === 'ok' ? 0 : result.status === 'corrupt' ? 3 : 1;
}

export function main(argv: string[]): Promise<number> {
  return runCommand('iomux echo-bench', () => run(argv));
}
