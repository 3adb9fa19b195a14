/**
 * `bench abuse flood|slow` (`node build/bench/main.js abuse …`): the echo server under abuse, measured. A
 * benchmark, not a test: run it by hand after `npm run build && npm run build:dev`.
 *
 * flood: N clients connect and send without ever reading (each 4 MiB, the same buffer). Meanwhile a
 *   separate process (so the load generator's own event loop does not show in its figures) sends a 64-byte
 *   ping every 2 ms and times each echo, and opens a new connection every 100 ms and times its first echo
 *   (the server's accept and first read under load). Reports the server's resident memory before, at its peak, while the
 *   flooders hold on, and after they leave; and the ping's and the newcomers' p50/p99/max.
 * slow: N clients each send one byte every `--every` seconds (slowloris-style) for `--seconds`; reports how
 *   many the server still holds at the end, and when it closed the others.
 *
 * The server runs as `node dist/cli/main.js echo-server --quiet --port 0 [server options after --]`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { intOption, runCommand, secondsOption, UsageError, type CommandSpec } from '#internal/cmdline/args.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export const spec: CommandSpec = {
  program: 'bench',
  name: 'abuse',
  summary: 'The echo server under abuse: flood (clients that never read, RSS and an interactive ping) or slow\n' +
    '(clients dripping one byte at a time, how many the server still holds).',
  positionals: 'flood|slow [-- SERVER OPTIONS]',
  options: {
    clients: { type: 'string', metavar: 'N', help: 'abusive clients (default 2000)' },
    seconds: { type: 'string', metavar: 'SEC', help: 'how long the abuse lasts (default 10)' },
    every: { type: 'string', metavar: 'SEC', help: 'slow: seconds between two bytes of a client (default 3)' },
  },
};

let clients = 2000;
let seconds = 10;
let everySeconds = 3;
let serverArgs: string[] = [];

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async (args) => {
    const [mode = 'flood', ...rest] = args.positionals;
    if (mode !== 'flood' && mode !== 'slow') throw new UsageError(`the first argument is flood or slow (got '${mode}')`);
    serverArgs = rest;
    clients = intOption(args, 'clients', clients, 1, 100_000);
    seconds = secondsOption(args, 'seconds', seconds, 0, 86_400, true);
    everySeconds = secondsOption(args, 'every', everySeconds, 0, 3600, true);
    await (mode === 'slow' ? slow() : flood());
    return 0;
  });
}

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** User + system CPU seconds the process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (clock ticks, USER_HZ 100)
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startServer(): Promise<{ pid: number; port: number; stop: () => Promise<string> }> {
  const child = spawn(process.execPath, [MAIN, 'echo-server', '--quiet', '--port', '0', ...serverArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  for (let i = 0; i < 500 && !/port (\d+)/.test(log); i++) await sleep(20);
  const m = /port (\d+)/.exec(log);
  if (!m) throw new Error(`the server did not start:\n${log}`);
  return {
    pid: child.pid!,
    port: Number(m[1]),
    async stop() {
      const t0 = performance.now();
      child.kill('SIGTERM');
      await once(child, 'exit');
      return `${log}(exit ${(performance.now() - t0).toFixed(0)} ms after SIGTERM)\n`;
    },
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * The interactive client, in a process of its own: pings for `ms` and prints the round trips'
 * percentiles. Meanwhile, every 100 ms, a new connection sends one byte: its wait (connect to echo, so
 * the server's accept and first read) is timed too.
 */
const PINGER = `
const net = require('node:net');
const [port, ms] = process.argv.slice(1).map(Number);
const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const stats = (xs) => { xs.sort((a, b) => a - b); return { n: xs.length, p50: q(xs, 0.5), p99: q(xs, 0.99), max: xs[xs.length - 1] }; };
const end = performance.now() + ms;
const waits = [];
let newcomers = 0;
const newcomer = () => {
  if (performance.now() > end) return;
  const t0 = performance.now();
  newcomers++;
  const c = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => c.write('x'));
  c.on('error', () => { newcomers--; c.destroy(); });
  c.once('data', () => { waits.push(performance.now() - t0); newcomers--; c.destroy(); });
};
const newcomerTimer = setInterval(newcomer, 100);
const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => {
  const rtts = []; const ping = Buffer.alloc(64, 0x2e); let t0 = 0; let got = 0;
  const send = () => { if (performance.now() > end) return done(); got = 0; t0 = performance.now(); s.write(ping); };
  s.on('data', (d) => { got += d.length; if (got >= 64) { rtts.push(performance.now() - t0); setTimeout(send, 2); } });
  const done = () => {
    clearInterval(newcomerTimer);
    s.destroy();
    // The last newcomers get a moment to be answered.
    const report = () => console.log(JSON.stringify({ ...stats(rtts), connect: stats(waits), unanswered: newcomers }));
    const until = performance.now() + 2000;
    const check = () => (newcomers === 0 || performance.now() > until ? report() : setTimeout(check, 10));
    check();
  };
  send();
});`;

type Stats = { n: number; p50: number; p99: number; max: number };
type Percentiles = Stats & { connect: Stats; unanswered: number };

/** Runs the pinger for `ms` against `port` and returns its figures. */
async function ping(port: number, ms: number): Promise<Percentiles> {
  const pinger = spawn(process.execPath, ['-e', PINGER, String(port), String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  pinger.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await once(pinger, 'close');
  return JSON.parse(out || '{}') as Percentiles;
}

const showStats = (p: Stats, what: string): string =>
  `p50 ${p.p50?.toFixed(2)} ms, p99 ${p.p99?.toFixed(2)} ms, max ${p.max?.toFixed(1)} ms (${p.n} ${what})`;
const showPing = (p: Percentiles): string =>
  `${showStats(p, 'round trips')}; a new connection's first echo: ${showStats(p.connect, 'connections')}` +
  (p.unanswered > 0 ? `, ${p.unanswered} unanswered` : '');

async function flood(): Promise<void> {
  const server = await startServer();
  // The machine's own noise: the same pings against the idle server.
  const baseline = await ping(server.port, 3000);
  const before = rssMiB(server.pid);
  const payload = Buffer.alloc(1024 * 1024, 0x61);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(server.pid))), 50);
  const pinging = ping(server.port, seconds * 1000);
  const t0 = performance.now();
  const socks: net.Socket[] = [];
  for (let i = 0; i < clients; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, clients - i) }, () => connect(server.port)));
    for (const s of batch) {
      s.on('error', () => {});
      s.pause(); // never reads
      for (let k = 0; k < 4; k++) s.write(payload);
    }
    socks.push(...batch);
  }
  const connected = performance.now() - t0;
  const loaded = await pinging;
  const during = rssMiB(server.pid);
  const cpu = cpuSeconds(server.pid);
  for (const s of socks) s.destroy();
  await sleep(2000);
  const after = rssMiB(server.pid);
  clearInterval(sampler);
  const log = await server.stop();
  console.log(`server ${serverArgs.join(' ') || '(defaults)'}: ${clients} flooding clients connected in ${(connected / 1000).toFixed(1)} s`);
  console.log(`server CPU while the flood lasted: ${cpu.toFixed(1)} s (user + system, start-up included)`);
  console.log(`RSS MiB: before ${before.toFixed(0)}, peak ${peak.toFixed(0)}, at ${seconds} s ${during.toFixed(0)}, 2 s after they left ${after.toFixed(0)}`);
  console.log(`interactive 64-byte ping, idle server: ${showPing(baseline)}`);
  console.log(`interactive 64-byte ping, during the flood: ${showPing(loaded)}`);
  process.stdout.write(log.split('\n').slice(-4).join('\n'));
}

async function slow(): Promise<void> {
  const server = await startServer();
  const every = everySeconds * 1000;
  const t0 = performance.now();
  const closedAt: number[] = [];
  const socks: net.Socket[] = [];
  for (let i = 0; i < clients; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, clients - i) }, () => connect(server.port)));
    for (const s of batch) {
      s.on('error', () => {});
      s.on('close', () => closedAt.push(performance.now() - t0));
      s.resume();
    }
    socks.push(...batch);
  }
  const drip = setInterval(() => {
    for (const s of socks) if (!s.destroyed) s.write('x');
  }, every);
  await sleep(seconds * 1000);
  clearInterval(drip);
  const held = socks.filter((s) => !s.destroyed).length;
  closedAt.sort((a, b) => a - b);
  for (const s of socks) s.destroy();
  const log = await server.stop();
  console.log(`server ${serverArgs.join(' ') || '(defaults)'}: ${clients} clients sending 1 byte every ${every / 1000} s for ${seconds} s`);
  console.log(`held at the end: ${held}; closed by the server: ${closedAt.length}` +
    (closedAt.length ? ` (first after ${(closedAt[0]! / 1000).toFixed(1)} s, last after ${(closedAt[closedAt.length - 1]! / 1000).toFixed(1)} s)` : ''));
  process.stdout.write(log.split('\n').slice(-4).join('\n'));
}

