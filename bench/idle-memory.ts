/**
 * `bench idle-memory` (`node build/bench/main.js idle-memory …`): what an echo server's memory costs per
 * idle connection. The server runs in a process of its own; this process opens idle TCP connections to it
 * in steps (1,000 then 10,000 by default), and at each step, once the server has accepted them all, reads
 * its resident size from /proc/PID/status. Per connection = growth of VmRSS / growth of the count.
 *
 * With --heap, the server (a node one) also writes a V8 heap snapshot at each step
 * (`--heapsnapshot-signal=SIGUSR2`), and the growth of its live heap is broken down by constructor:
 * which objects each connection costs, and how many bytes. Snapshots force a collection and grow the heap,
 * so the resident sizes of a --heap run are not the ones to quote (run without it for those).
 *
 * Synchronisation, not sleeps: the last connection of a step is opened only once all the others have
 * connected, so it is the last in the listener's (FIFO) accept queue, and an echo on it proves the server
 * accepted every one. A snapshot is complete when an echo sent after its file appeared comes back (the
 * server's thread writes it).
 *
 * The server: `node dist/cli/main.js echo-server --quiet --backend B` (--backend, default epoll), or any
 * command given after `--`, to which `--port N` is appended (the convention of ../shared/bench/run-echo.sh,
 * so the anchors there run as they are).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { heapGrowth, summarizeSnapshot, type HeapSummary } from './heap-snapshot.js';
import { runCommand, secondsOption, UsageError, type CommandSpec } from '#internal/cmdline/args.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export const spec: CommandSpec = {
  program: 'bench',
  name: 'idle-memory',
  summary:
    'Resident memory of an echo server per idle connection: opens idle TCP connections in steps (--counts),\n' +
    'reads the server\'s VmRSS once it has accepted them all, and with --heap breaks the growth of its V8 heap\n' +
    'down by constructor (heap snapshots). The server is iomux\'s (--backend) or the command after --.',
  positionals: '[-- SERVER COMMAND ...]',
  options: {
    backend: { type: 'string', metavar: 'NAME', help: 'iomux echo-server backend (default epoll); ignored with a command after --' },
    counts: { type: 'string', metavar: 'LIST', help: 'comma-separated connection counts, ascending (default 1000,10000)' },
    heap: { type: 'boolean', help: 'also take heap snapshots (node servers only) and break the heap growth down' },
    rows: { type: 'string', metavar: 'N', help: 'heap groups shown with --heap (default 25)' },
    settle: { type: 'string', metavar: 'SEC', help: 'wait this long at each step before reading VmRSS, for V8\'s idle-time memory reducer (default 0)' },
    json: { type: 'boolean', help: 'print one JSON object instead of the tables' },
  },
};

/** Connections being opened at once (more would overflow the SYN backlog on a small machine). */
const CONNECT_CONCURRENCY = 200;
const START_TIMEOUT_MS = 15_000;

export interface Step {
  connections: number;
  rssKb: number;
  rssAnonKb: number;
  /** Live JS heap (bytes) as the snapshot sees it; only with --heap. */
  heapBytes?: number;
}

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async (args) => {
    const counts = ((args.values.counts as string | undefined) ?? '1000,10000').split(',').map(Number);
    if (counts.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= counts[i - 1]!))) {
      throw new UsageError('--counts: positive integers in ascending order');
    }
    const backend = (args.values.backend as string | undefined) ?? 'epoll';
    const command = args.positionals.length > 0
      ? args.positionals
      : [process.execPath, MAIN, 'echo-server', '--quiet', '--backend', backend];
    const heap = args.values.heap === true;
    const rows = Number(args.values.rows ?? 25);
    const settle = secondsOption(args, 'settle', 0, 0, 3600);
    const result = await measure(command, counts, heap, settle);
    if (args.values.json === true) {
      process.stdout.write(`${JSON.stringify({ bench: 'idle-memory', command: command.join(' '), ...result })}\n`);
      return 0;
    }
    process.stdout.write(`server: ${command.join(' ')}\n\n${stepsTable(result.steps)}\n`);
    if (result.growth) process.stdout.write(`\n${growthTable(result.growth, rows)}\n`);
    return 0;
  });
}

export interface Measurement {
  steps: Step[];
  /** VmRSS growth per connection between the first and the last step (bytes). */
  rssPerConnection: number;
  /** Live heap growth per connection (bytes), with --heap. */
  heapPerConnection?: number;
  /** Per connection, by heap group, with --heap: [group, objects, bytes]. */
  growth?: Array<[string, number, number]>;
}

export async function measure(command: string[], counts: number[], heap: boolean, settleSeconds = 0): Promise<Measurement> {
  const dir = heap ? mkdtempSync(join(tmpdir(), 'iomux-idle-memory-')) : '';
  const server = await startServer(heap ? withSnapshots(command, dir) : command);
  const sockets: net.Socket[] = [];
  const steps: Step[] = [];
  const summaries: HeapSummary[] = [];
  try {
    for (const count of counts) {
      await openIdle(server.port, sockets, count);
      const last = sockets[sockets.length - 1]!;
      await echo(last);
      // An idle server allocates nothing, so V8's memory reducer (which shrinks the young generation and
      // returns free pages) only runs some seconds after the last collection: --settle waits for it.
      if (settleSeconds > 0) await new Promise((r) => setTimeout(r, settleSeconds * 1000));
      const step: Step = { connections: count, ...residentKb(server.pid) };
      if (heap) {
        const summary = await snapshot(server.child, dir, last);
        summaries.push(summary);
        step.heapBytes = summary.totalBytes;
      }
      steps.push(step);
    }
  } finally {
    for (const s of sockets) s.destroy();
    await server.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const added = last.connections - first.connections;
  const result: Measurement = { steps, rssPerConnection: added > 0 ? ((last.rssKb - first.rssKb) * 1024) / added : Number.NaN };
  if (heap && added > 0) {
    result.heapPerConnection = (last.heapBytes! - first.heapBytes!) / added;
    result.growth = heapGrowth(summaries[0]!, summaries[summaries.length - 1]!).map((g) => [g.group, g.count / added, g.bytes / added]);
  }
  return result;
}

/** `command` with node's snapshot-on-SIGUSR2 flags (the server must be a node program). */
function withSnapshots(command: string[], dir: string): string[] {
  const [exe, ...rest] = command;
  if (exe !== process.execPath && basename(exe!) !== 'node') throw new UsageError('--heap needs a node server');
  return [exe!, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`, ...rest];
}

interface Server {
  child: ChildProcess;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

async function startServer(command: string[]): Promise<Server> {
  const port = await freePort();
  const child = spawn(command[0]!, [...command.slice(1), '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  const exited = once(child, 'exit');
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited:\n${log}`);
    try {
      const s = await connect(port);
      s.destroy();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the server did not listen on port ${port}:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    child,
    pid: child.pid!,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.removeListener('error', reject);
      s.on('error', () => {}); // a reset at shutdown is expected
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Opens connections until `sockets` holds `count`; the last one alone, after all the others connected. */
async function openIdle(port: number, sockets: net.Socket[], count: number): Promise<void> {
  while (sockets.length < count - 1) {
    const batch = Math.min(CONNECT_CONCURRENCY, count - 1 - sockets.length);
    sockets.push(...(await Promise.all(Array.from({ length: batch }, () => connect(port)))));
  }
  sockets.push(await connect(port));
}

/** Sends one byte on `s` and waits for it to come back. */
async function echo(s: net.Socket): Promise<void> {
  const back = once(s, 'data');
  s.write('.');
  await back;
}

function residentKb(pid: number): { rssKb: number; rssAnonKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssKb: field('VmRSS'), rssAnonKb: field('RssAnon') };
}

/** Asks the server for a heap snapshot, waits until it is written (an echo after it), and reads it. */
async function snapshot(child: ChildProcess, dir: string, probe: net.Socket): Promise<HeapSummary> {
  const before = new Set(readdirSync(dir));
  child.kill('SIGUSR2');
  const deadline = Date.now() + 60_000;
  let file: string | undefined;
  while ((file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'))) === undefined) {
    if (Date.now() > deadline) throw new Error('no heap snapshot appeared within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  await echo(probe);
  return summarizeSnapshot(join(dir, file));
}

function stepsTable(steps: Step[]): string {
  const lines = ['connections   VmRSS kB   RssAnon kB   JS heap kB   RSS/conn B (from previous)'];
  steps.forEach((s, i) => {
    const prev = steps[i - 1];
    const per = prev ? (((s.rssKb - prev.rssKb) * 1024) / (s.connections - prev.connections)).toFixed(0) : '';
    const heap = s.heapBytes === undefined ? '-' : (s.heapBytes / 1024).toFixed(0);
    lines.push(`${String(s.connections).padStart(11)}   ${String(s.rssKb).padStart(8)}   ${String(s.rssAnonKb).padStart(10)}   ${heap.padStart(10)}   ${per.padStart(10)}`);
  });
  return lines.join('\n');
}

function growthTable(growth: Array<[string, number, number]>, rows: number): string {
  const total = growth.reduce((sum, [, , b]) => sum + b, 0);
  const lines = [`JS heap growth per connection: ${total.toFixed(0)} bytes`, '  bytes   objects   group'];
  for (const [group, count, bytes] of growth.slice(0, rows)) {
    lines.push(`${bytes.toFixed(1).padStart(7)}   ${count.toFixed(2).padStart(7)}   ${group}`);
  }
  return lines.join('\n');
}
