/**
 * docs/benchmarks.md and docs/img/*.svg from a `bench all` results directory.
 *
 * Only the sections between `<!-- BEGIN GENERATED name -->` and `<!-- END GENERATED name -->` are
 * rewritten, so the hand-written parts of the document (method, analysis, the syscall section) survive a
 * new run. A document that does not exist yet is started from a skeleton. Every figure comes from the run's
 * JSON lines; nothing is typed in by hand.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { markdownTable, num, range, times } from './format.js';
import { barsSpec, renderSvg, type Bar } from './plot.js';
import {
  aggregate, DISTURBED_POINTS, foreignCpuPoints, idleMemory, meanAll, roundRatios, type Aggregate, type Pins, type ResultLine, type SuiteResults,
} from './results.js';
import { scalingMarkdownTable, scalingPlotSpec } from './scaling-report.js';
import { SCENARIOS } from './meta.js';
import { SERVERS } from './suite.js';
import { CURRENT, EARLIER, evaluateTargets, URING, type Verdict } from './targets.js';

export interface ReportOptions {
  doc: string;
  imgDir: string;
}

const LABEL = new Map(SERVERS.map((s) => [s.name, s.label]));
const label = (server: string): string => LABEL.get(server) ?? server;
/** Servers in a fixed order: iomux's first, then the references. */
const ORDER = SERVERS.map((s) => s.name);

function serversIn(lines: ResultLine[]): string[] {
  const present = new Set(lines.map((l) => l.server));
  return [...ORDER.filter((s) => present.has(s)), ...[...present].filter((s) => !ORDER.includes(s))];
}

function scenariosIn(lines: ResultLine[]): string[] {
  const present = new Set(lines.map((l) => l.scenario));
  return [...SCENARIOS.filter((s) => present.has(s)), ...[...present].filter((s) => !(SCENARIOS as readonly string[]).includes(s))];
}

function notes(a: Aggregate, pins: Pins): string {
  const out: string[] = [];
  for (const l of a.leftOut) {
    out.push(`${l.run} left out: other processes used ${num(foreignCpuPoints(l, pins))} % of a pinned CPU`);
  }
  if (a.onlyDisturbed) out.push(`**every run was disturbed** (other processes on a pinned CPU): noisy`);
  const failed = a.runs.filter((l) => l.status !== 'ok');
  for (const l of failed) {
    const bits = [`${l.run}: ${l.status}`];
    if (l.server_alive === false) bits.push('server died');
    if (l.connect_errors) bits.push(`${num(l.connect_errors)} connect errors`);
    if (l.resets) bits.push(`${num(l.resets)} connections reset by the server`);
    if (l.idle) bits.push(`${num(l.idle_probe_ok ?? 0)}/${num(l.idle)} idle served`);
    out.push(bits.join(', '));
  }
  const client = a.mean('client_cpu_pct');
  if (client !== undefined && client >= 95) out.push('load generator saturated: a lower bound for the server');
  return out.join('; ');
}

function echoTable(lines: ResultLine[], pins: Pins): string {
  const rows: string[][] = [];
  for (const sc of scenariosIn(lines)) {
    for (const sv of serversIn(lines)) {
      const a = aggregate(lines, sv, sc, pins);
      if (!a) continue;
      const spread = a.halfSpreadPct === undefined ? '' : ` ±${a.halfSpreadPct.toFixed(1)} %`;
      const cpuSpread = a.halfSpreadPctOf('server_cpu_us_per_msg');
      rows.push([sc, a.server.startsWith('iomux') ? `**${label(sv)}**` : label(sv), `${a.used.length}/${a.runs.length}`,
        a.ok.length ? `${num(a.mean('msgs_per_s'))}${spread}` : '-', num(a.mean('mb_per_s'), 1), num(a.mean('lat_p50_us'), 1),
        num(a.mean('lat_p99_us'), 1), num(a.mean('server_cpu_pct')),
        `${num(a.mean('server_cpu_us_per_msg'), 2)}${cpuSpread === undefined ? '' : ` ±${cpuSpread.toFixed(1)} %`}`,
        num(a.mean('client_cpu_pct')), notes(a, pins)]);
    }
  }
  return markdownTable(['scenario', 'server', 'runs used', 'msgs/s (± half-spread)', 'MB/s', 'p50 µs', 'p99 µs',
    'server CPU %', 'server CPU µs/msg (± half-spread)', 'load-gen CPU %', 'notes'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']);
}

/** a ÷ b of the means, and the ratio's range over the rounds when there are several ("1.02× (0.98–1.06)"). */
function ratioCell(a: Aggregate | undefined, b: Aggregate | undefined, field: keyof ResultLine): string {
  const x = a?.mean(field);
  const y = b?.mean(field);
  if (x === undefined || !y) return '-';
  const r = roundRatios(a, b, field);
  return r.length > 1 ? `${times(x / y)} (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})` : times(x / y);
}

function ratioTable(lines: ResultLine[], pins: Pins): string {
  const rows: string[][] = [];
  for (const sc of scenariosIn(lines)) {
    const i = aggregate(lines, 'iomux_epoll', sc, pins);
    if (!i) continue;
    const other = (server: string): Aggregate | undefined => aggregate(lines, server, sc, pins);
    const cpu = 'server_cpu_us_per_msg';
    rows.push([sc, ratioCell(i, other('koffi_epoll_echo'), cpu), ratioCell(i, other('epoll_echo'), cpu), ratioCell(i, other('node_net_echo'), cpu),
      ratioCell(i, other('py_selectors_echo'), cpu), ratioCell(other('koffi_epoll_echo'), other('epoll_echo'), cpu),
      ratioCell(i, other('node_net_echo'), 'msgs_per_s'), ratioCell(i, other('epoll_echo'), 'lat_p50_us')]);
  }
  return markdownTable(['scenario', 'CPU/msg ÷ FFI floor', 'CPU/msg ÷ C', 'CPU/msg ÷ Node', 'CPU/msg ÷ Python selectors',
    'floor ÷ C (CPU/msg)', 'msgs/s ÷ Node', 'p50 ÷ C'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

/** iomux uring against C epoll, the C io_uring anchor, iomux epoll and the FFI floor; empty without uring rows. */
function uringRatioTable(lines: ResultLine[], pins: Pins): string {
  const rows: string[][] = [];
  const cpu = 'server_cpu_us_per_msg';
  for (const sc of scenariosIn(lines)) {
    const u = aggregate(lines, 'iomux_uring', sc, pins);
    if (!u) continue;
    const other = (server: string): Aggregate | undefined => aggregate(lines, server, sc, pins);
    rows.push([sc, ratioCell(u, other('epoll_echo'), cpu), ratioCell(u, other('uring_echo'), cpu), ratioCell(u, other('iomux_epoll'), cpu),
      ratioCell(u, other('koffi_epoll_echo'), cpu), ratioCell(other('uring_echo'), other('epoll_echo'), cpu), ratioCell(u, other('epoll_echo'), 'lat_p50_us')]);
  }
  if (rows.length === 0) return '';
  return markdownTable(['scenario', 'CPU/msg ÷ C epoll', 'CPU/msg ÷ C io_uring', 'CPU/msg ÷ iomux epoll', 'CPU/msg ÷ FFI floor',
    'C io_uring ÷ C epoll (CPU/msg)', 'p50 ÷ C epoll'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r']);
}

/** System calls and FFI crossings per message, one row per server and scenario of the counting pass. */
function countsTable(res: SuiteResults): string {
  const rows: string[][] = [];
  const f = (x: number | undefined): string => (x === undefined ? '-' : x < 10 ? x.toFixed(3) : num(x, 1));
  const servers = ORDER.filter((sv) => res.counts.some((c) => c.server === sv));
  for (const sc of SCENARIOS) {
    for (const sv of servers) {
      const lines = res.counts.filter((c) => c.server === sv && c.scenario === sc);
      if (!lines.length) continue;
      const mean = (field: 'syscalls_per_msg' | 'crossings_per_msg'): number | undefined => {
        const v = lines.map((l) => l[field]).filter((x): x is number => typeof x === 'number');
        return v.length ? v.reduce((p, q) => p + q, 0) / v.length : undefined;
      };
      rows.push([sc, sv.startsWith('iomux') ? `**${label(sv)}**` : label(sv), f(mean('syscalls_per_msg')), f(mean('crossings_per_msg')),
        num(lines.reduce((p, l) => p + l.msgs, 0)), lines.map((l) => l.note).filter(Boolean).join('; ')]);
    }
  }
  return markdownTable(['scenario', 'server', 'system calls / msg', 'FFI crossings / msg', 'messages counted', 'notes'], rows,
    ['l', 'l', 'r', 'r', 'r', 'l']);
}

function memoryTable(lines: ResultLine[], pins: Pins): string {
  const rows: string[][] = [];
  const mib = (kb: number | undefined): string => (kb === undefined ? '-' : num(kb / 1024, 1));
  for (const sv of serversIn(lines)) {
    const rss = (sc: string): number | undefined => meanAll(aggregate(lines, sv, sc, pins), 'server_rss_kb');
    const big = aggregate(lines, sv, 'idle10k', pins);
    if (rss('lat') === undefined && rss('idle1k') === undefined && big === undefined) continue;
    const m = idleMemory(lines, sv, pins);
    let perConn = '-';
    if (m) {
      perConn = num(m.bytesPerConn);
      if (m.perRound.length > 1) perConn += ` (${range(Math.min(...m.perRound), Math.max(...m.perRound))})`;
    } else if (big && big.runs.some((l) => l.status !== 'ok')) {
      perConn = 'idle10k not ok';
    }
    rows.push([label(sv), mib(rss('lat')), mib(rss('idle1k')), mib(rss('idle10k')), mib(meanAll(big, 'server_hwm_kb')), perConn]);
  }
  return markdownTable(['server', 'RSS MiB, lat (1 conn)', 'RSS MiB, idle1k', 'RSS MiB, idle10k', 'peak RSS MiB, idle10k',
    'bytes per idle conn (by round)'], rows, ['l', 'r', 'r', 'r', 'r', 'r']);
}

function echoBenchTable(res: SuiteResults): string {
  const rows: string[][] = [];
  for (const sc of scenariosIn(res.echoBench)) {
    for (const sv of serversIn(res.echoBench)) {
      for (const [tool, lines] of [['iomux echo-bench', res.echoBench], ['echoload (C)', res.echo]] as const) {
        const a = aggregate(lines, sv, sc, res.pins);
        if (!a) continue;
        const verified = a.runs.reduce((s, l) => s + (typeof l.verified_bytes === 'number' ? l.verified_bytes : 0), 0);
        rows.push([sc, label(sv), tool, `${a.used.length}/${a.runs.length}`, num(a.mean('msgs_per_s')), num(a.mean('lat_p50_us'), 1),
          num(a.mean('lat_p99_us'), 1), num(a.mean('server_cpu_us_per_msg'), 2), num(a.mean('client_cpu_pct')),
          tool === 'iomux echo-bench' ? num(verified) : '-']);
      }
    }
  }
  return markdownTable(['scenario', 'server', 'load generator', 'runs used', 'msgs/s', 'p50 µs', 'p99 µs', 'server CPU µs/msg',
    'load-gen CPU %', 'bytes verified'], rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

function bars(lines: ResultLine[], field: keyof ResultLine, pins: Pins): Bar[] {
  const out: Bar[] = [];
  for (const sc of scenariosIn(lines)) {
    for (const sv of serversIn(lines)) {
      const v = aggregate(lines, sv, sc, pins)?.mean(field);
      if (v !== undefined) out.push({ group: sc, series: label(sv), value: v });
    }
  }
  return out;
}

function quietText(q: SuiteResults['meta']['quietBefore'] | undefined): string {
  if (!q) return 'not sampled';
  return `load average ${q.loadavg.map((x) => x.toFixed(2)).join(' / ')} (1/5/15 min), CPUs busy ` +
    `${q.cpuBusyPct.map((x) => `${x.toFixed(1)} %`).join(' / ')} over ${q.sampleS} s with nothing of the benchmark running`;
}

function busyDuringRun(lines: ResultLine[]): string {
  // echoload records both CPUs' busy time over each window: the server's and its own core, plus anything else.
  const v = lines.map((l) => l.cpu_busy_pct).filter((x): x is number[] => Array.isArray(x) && x.length > 0);
  if (v.length === 0) return '';
  const maxIdleish = v.map((x) => Math.max(...x));
  return ` During the windows both CPUs were ${num(Math.min(...maxIdleish))}–${num(Math.max(...maxIdleish))} % busy at the busier core ` +
    '(server, load generator and kernel work together; echoload\'s `cpu_busy_pct`).';
}

/** A warning line when other work shared the machine (a busy start, or a quarter of the runs disturbed), else ''. */
function sharedMachineText(res: SuiteResults): string {
  const all = [...res.echo, ...res.echoBench].filter((l) => l.status === 'ok');
  const disturbed = all.filter((l) => (foreignCpuPoints(l, res.pins) ?? 0) > DISTURBED_POINTS).length;
  const load = res.meta.quietBefore?.loadavg[0] ?? 0;
  if (load <= 1 && disturbed * 4 < all.length) return '';
  return `- **Shared machine:** other work ran beside this run (load average ${load.toFixed(2)} at the start; ${disturbed} of ` +
    `${all.length} ok runs disturbed). Where every run of a cell was disturbed its figures come from those runs (the notes ` +
    'say so): read them as noisier than their spread between rounds suggests.';
}

/** How many runs were left out as disturbed, and by what rule. */
function disturbedText(res: SuiteResults): string {
  const all = [...res.echo, ...res.echoBench].filter((l) => l.status === 'ok');
  const disturbed = all.filter((l) => (foreignCpuPoints(l, res.pins) ?? 0) > DISTURBED_POINTS);
  const retries = new Set([...res.echo, ...res.echoBench].map((l) => l.run).filter((r) => r.startsWith('retry'))).size;
  return `a run is disturbed when processes other than the server and the load generator used more than ` +
    `${DISTURBED_POINTS} points of a pinned CPU during its window; ${disturbed.length} of ${all.length} ok runs were` +
    `${retries ? `, and ${retries} retry pass(es) re-ran the cells left without an undisturbed run` : ''}`;
}

/** The spread between rounds of the server CPU per message, over every cell with at least two runs used. */
function noiseText(res: SuiteResults, rounds: number): string {
  const spreads: Array<{ h: number; cell: string }> = [];
  const servers = serversIn(res.echo);
  for (const sc of scenariosIn(res.echo)) {
    for (const sv of servers) {
      const h = aggregate(res.echo, sv, sc, res.pins)?.halfSpreadPctOf('server_cpu_us_per_msg');
      if (h !== undefined) spreads.push({ h, cell: `${label(sv)} in ${sc}` });
    }
  }
  if (spreads.length === 0) return `${rounds <= 1 ? 'one round' : `${rounds} rounds`}, so no spread between rounds to show: a single run per cell, read it as ±10–20 %.`;
  spreads.sort((a, b) => a.h - b.h);
  const median = spreads[Math.floor(spreads.length / 2)]!.h;
  const worst = spreads[spreads.length - 1]!;
  return `server CPU per message differed between rounds by ± half-spread ${spreads[0]!.h.toFixed(1)}–${worst.h.toFixed(1)} % ` +
    `(median ${median.toFixed(1)} %, widest: ${worst.cell}) over ${spreads.length} cells. Ratios closer to their limit than ` +
    'that are not settled by this run; the "by round" ranges beside the targets show it.';
}

function section(name: string, body: string): string {
  return `<!-- BEGIN GENERATED ${name} (bench report) -->\n${body.trim()}\n<!-- END GENERATED ${name} -->`;
}

function summarySection(res: SuiteResults): string {
  const m = res.meta;
  const mc = m.machine;
  const o = m.options;
  const verdicts = evaluateTargets(res);
  const count = (vs: Verdict[]): string => {
    const met = vs.filter((v) => v.met === true).length;
    const missed = vs.filter((v) => v.met === false).length;
    return `${met} met, ${missed} missed, ${vs.length - met - missed} not measured`;
  };
  const table = (vs: Verdict[]): string => markdownTable(['target', 'measured (iomux vs reference)', 'result'], vs.map((v) => [v.target, v.measured,
    v.met === null ? 'not measured' : `${v.met ? '**met**' : '**missed**'}${v.margin ? `: ${v.margin}` : ''}`]));
  const current = verdicts.filter((v) => v.group === CURRENT);
  const uring = verdicts.filter((v) => v.group === URING);
  const earlier = verdicts.filter((v) => v.group === EARLIER);
  const rounds = Math.max(0, ...res.echo.map((l) => Number(/^round(\d+)$/.exec(l.run)?.[1] ?? 0)));
  return [
    `## Latest run: ${m.startedAt.slice(0, 10)}`,
    '',
    `- **When:** ${m.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} to ${(m.finishedAt ?? '?').replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}.`,
    ...(m.commit ? [`- **Code:** commit ${m.commit}.`] : []),
    `- **Machine:** ${mc.cpuCount} × ${mc.cpuModel}${mc.virtualized ? ' (virtual machine)' : ''}, Linux ${mc.kernel}, ` +
      `${mc.memoryGiB} GiB RAM; Node.js ${mc.node}${mc.python ? `, ${mc.python}` : ''}${mc.gcc ? `, ${mc.gcc.replace(/\s*\(.*?\)\s*/, ' ')}` : ''}.`,
    `- **How quiet:** before the run ${quietText(m.quietBefore)}; after it ${quietText(m.quietAfter)}.${busyDuringRun(res.echo)}`,
    `- **Method:** ${o.rounds === 1 ? 'one round' : `${o.rounds} interleaved rounds (each runs every server once per scenario, ` +
      'the servers of a scenario back to back, their order reversed every other round)'}, ` +
      `${o.warmup} s warmup + ${o.duration} s measured ` +
      `per scenario, a fresh server per scenario pinned to CPU ${o.serverCpu}, the load generator to CPU ${o.loadCpu}; ` +
      `values are means over the runs whose status was ok and that no other process disturbed (${disturbedText(res)}).`,
    '',
    `- **Noise:** ${noiseText(res, rounds)}`,
    ...[sharedMachineText(res)].filter(Boolean),
    '',
    `### Current targets: ${count(current)}`,
    '',
    'Each target is a ratio between iomux and a reference server measured in this run (bench/targets.ts lists them), judged',
    'on the means over the rounds. Beside each mean, its ± half-spread between rounds; "by round" is the same ratio',
    'computed round by round. A margin smaller than that range is not a verdict on the code: it says "within the',
    'rounds\' spread".',
    '',
    table(current),
    '',
    `### io_uring targets (iomux uring against C epoll and the C io_uring anchor): ${count(uring)}`,
    '',
    'System calls and FFI crossings per message come from the counting pass (see "System calls and FFI crossings per',
    'message" below), not from the timed runs.',
    '',
    table(uring),
    '',
    `### Earlier targets, against C and Node (still checked): ${count(earlier)}`,
    '',
    table(earlier),
  ].join('\n');
}

function echoSection(res: SuiteResults, img: string): string {
  return [
    '## Echo servers under echoload',
    '',
    'One row per server and scenario (`../shared/bench/run-echo.sh`). "server CPU µs/msg" is the server\'s user + system',
    'CPU time over the measured window divided by the messages echoed in it: the fair figure when the load generator,',
    'not the server, is the limit (load-gen CPU % near 100). "± half-spread" is half the difference between the',
    'highest and the lowest of the runs used, in % of their mean.',
    '',
    echoTable(res.echo, res.pins),
    '',
    '### iomux epoll against the references (ratios of the means above)',
    '',
    'In parentheses, the lowest and highest of the same ratio computed round by round. The FFI floor',
    '(`anchors/koffi_epoll_echo.mjs` of the shared kit) is the smallest koffi epoll echo loop: what iomux costs above',
    'it is the cost of its API layer; "floor ÷ C" is what the FFI itself costs.',
    '',
    ratioTable(res.echo, res.pins),
    '',
    ...uringRatios(res),
    `![Server CPU time per message, by scenario and server](${img}/echo-cpu-per-msg.svg)`,
    '',
    `![Messages per second, by scenario and server](${img}/echo-msgs-per-s.svg)`,
  ].join('\n');
}

function uringRatios(res: SuiteResults): string[] {
  const t = uringRatioTable(res.echo, res.pins);
  if (t === '') return [];
  return [
    '### iomux uring against C epoll and C io_uring (ratios of the means above)',
    '',
    '`iomux echo-server --backend uring` against C `epoll_echo` and the C io_uring anchor (`anchors/uring_echo.c` of the',
    'shared kit: multishot accept, multishot recv into a provided buffer ring, one send in flight per connection), the',
    'design\'s own floor. In parentheses, the lowest and highest of the ratio round by round.',
    '',
    t,
    '',
  ];
}

function countsSection(res: SuiteResults): string {
  if (res.counts.length === 0) {
    return '## System calls and FFI crossings per message\n\nNot counted in this run (`--skip-counts`, or perf could not count here).';
  }
  return [
    '## System calls and FFI crossings per message',
    '',
    'Counted after the timed rounds, one short echoload run per server and scenario, by `perf stat -p PID` on the server',
    'over the measured window (bench/counts.ts), divided by the messages echoed in it. System calls: the',
    '`raw_syscalls:sys_enter` tracepoint, every thread of the server. FFI crossings: a uprobe on N-API\'s call',
    'trampoline in the node binary (`v8impl::FunctionCallbackWrapper::Invoke`), which every call of a koffi function',
    'enters; koffi is the only N-API addon these servers load. Counted for the Node servers that reach C through koffi',
    '(iomux\'s and the FFI floor); Node\'s `net` uses internal bindings, not N-API, and the C and Python servers have no',
    'FFI. The uprobe slows each crossing down, which is why these runs give no CPU figures.',
    '',
    countsTable(res),
  ].join('\n');
}

function memorySection(res: SuiteResults, img: string): string {
  return [
    '## Memory: resident set with 1,000 and 10,000 idle connections',
    '',
    'RSS of the server (and its descendants) at the end of the measured window, from run-echo.sh\'s `server_rss_kb` and',
    '`server_hwm_kb`, means over every run. The last column is what one idle connection adds: (RSS at idle10k − RSS at',
    'idle1k) ÷ 9,000, so the fixed footprint of the process cancels out; in parentheses the same figure from each',
    'round\'s pair of runs. RSS moves with the garbage collector\'s state at the moment it is read, so rounds differ.',
    '',
    memoryTable(res.echo, res.pins),
    '',
    `![Server RSS by scenario and server](${img}/echo-rss.svg)`,
  ].join('\n');
}

function echoBenchSection(res: SuiteResults): string {
  if (res.echoBench.length === 0) return '## iomux echo-bench\n\nNot run in this round (`--skip-echo-bench`).';
  return [
    '## iomux echo-bench: the TypeScript load generator',
    '',
    '`iomux echo-bench` is the project\'s own closed-loop client on iomux\'s epoll and non-blocking sockets, run the way',
    'run-echo.sh runs echoload (fresh server pinned to the server CPU, the generator to the other, same warmup and window).',
    'Beside each row, echoload\'s figures for the same server and scenario in the same run. Where the generator is at',
    '100 % of its core, the message rate measures the generator, not the server.',
    '',
    echoBenchTable(res),
  ].join('\n');
}

const KERRISK = markdownTable(['N fds', 'poll (s)', 'select (s)', 'epoll (s)'], [
  ['10', '1.12', '1.28', '0.65'], ['100', '6.8', '7.1', '0.68'], ['1,000', '157', '151', '0.89'], ['10,000', '1,750', '1,087', '0.97'],
], ['r', 'r', 'r', 'r']);

function scalingSection(res: SuiteResults, img: string): string {
  const s = res.scaling;
  if (!s) return '## select, poll and epoll: the scaling curve\n\nNot run in this round (`--skip-scaling`).';
  return [
    '## select, poll and epoll: the scaling curve',
    '',
    `What one readiness wait costs with N watched descriptors of which exactly one is ready (\`npm run bench:scaling\`,`,
    `pinned to CPU ${res.meta.options.serverCpu}). The descriptors are both ends of N/2 pipes, all watched for input; one byte`,
    'left unread in the pipe nearest the middle of the set keeps exactly one readable. Each wait goes through iomux\'s',
    'public API with a zero timeout (`select()`, `Poll.poll()`, the allocation-free `Epoll.wait()`), so the figures',
    'include the JavaScript around each syscall. The cost is CPU time (user + system, as in Kerrisk\'s table), so a round',
    `in which another process ran still measures only the waits. Median of ${s.options.rounds} rounds of about ` +
      `${Math.round(s.options.msPerPoint / s.options.rounds)} ms each.`,
    s.selectLimit < s.options.maxFds
      ? `select stops at ${num(s.selectLimit)} fds, the most this process had free below FD_SETSIZE (1024).`
      : '',
    '',
    scalingMarkdownTable(s),
    '',
    `![Cost of one readiness wait against watched descriptors, log-log](${img}/scaling.svg)`,
    '',
    'For the shape, Michael Kerrisk\'s figures from his linux.conf.au 2006 talk "Linux 2.6 changes", slide "The epoll',
    'API" (https://trainingfromthefuture.com/conf/lca2006/Linux_2.6_changes/epoll_2d.html): seconds for 100,000',
    'monitoring operations with one randomly chosen fd ready each time — divide by 100,000 for seconds per wait: at',
    '10,000 fds poll took 17.5 ms per wait and epoll 9.7 µs on the 2006 hardware.',
    '',
    KERRISK,
  ].join('\n');
}

function rawSection(res: SuiteResults): string {
  const block = (title: string, lines: ResultLine[] | string): string => {
    const text = typeof lines === 'string' ? lines : lines.map((l) => JSON.stringify(l)).join('\n');
    return `<details><summary>${title}</summary>\n\n\`\`\`json\n${text}\n\`\`\`\n\n</details>`;
  };
  const parts = [
    '## Raw data of the latest run', '',
    'Every figure above is computed from these files by `bench report` (`node build/bench/main.js report --from DIR`):',
    'saved as meta.json, echo.jsonl, echo-bench.jsonl and scaling.json in one directory, they reproduce the sections.', '',
  ];
  parts.push(block('meta.json', JSON.stringify(res.meta)), '');
  parts.push(block(`echo.jsonl: run-echo.sh / echoload (${res.echo.length} lines)`, res.echo));
  if (res.echoBench.length) parts.push('', block(`echo-bench.jsonl: iomux echo-bench (${res.echoBench.length} lines)`, res.echoBench));
  if (res.scaling) parts.push('', block('scaling.json: bench scaling', JSON.stringify(res.scaling)));
  if (res.counts.length) parts.push('', block(`counts.jsonl: system calls and FFI crossings (${res.counts.length} lines)`, res.counts.map((c) => JSON.stringify(c)).join('\n')));
  return parts.join('\n');
}

const SKELETON = `# Benchmarks

iomux's two central claims, measured on its own code beside reference implementations on the same machine:
a multiplexed server in one thread serves many clients at close to C speed and well ahead of Node's own \`net\`,
and epoll's cost follows the ready descriptors while select's and poll's grow with every watched one.

Everything below between \`BEGIN GENERATED\` and \`END GENERATED\` markers is written by \`npm run bench\`
(\`bench all\` of the repository's bench/ tools) from the JSON lines of one run; the rest is written by hand.

${section('summary', '')}

## Reproduce

\`\`\`sh
npm run bench                   # builds, then bench all (about 20 minutes): this file and docs/img/*.svg
npm run bench -- --rounds 1     # options go after --; see npm run bench -- --help
node build/bench/main.js report --from DIR            # rewrite the generated sections from a finished run
npm run bench:scaling -- --plot curve.svg             # the scaling curve alone
npm run bench:syscalls                                # the syscall costs below
node dist/cli/main.js echo-bench --port 10000         # the load generator alone, against a running server
\`\`\`

These tools live in the repository (bench/, built into build/bench by \`npm run build:dev\`); they do not
ship with the package. \`bench all\` builds \`../shared/bench\` (\`make\`; \`--shared-bench DIR\` or \`IOMUX_SHARED_BENCH\` to point
elsewhere), then runs \`run-echo.sh\` for each server and scenario, \`iomux echo-bench\` against iomux's server and
Node's \`net\` echo, and the scaling curve. Run it on a quiet machine: it records how busy the machine was.

## Method

- **Load generator:** \`../shared/bench/echoload\` (C, epoll): closed loop, each active connection keeps *depth*
  messages of *size* bytes in flight; every echoed byte is verified; latency runs from the send() of a message's
  first byte to the recv() of its last.
- **Scenarios:** \`lat\` (1 connection, depth 1, 64 B), \`tput64\` (50 × 16 × 64 B), \`tput4k\` (50 × 4 × 4 KiB),
  \`idle1k\` and \`idle10k\` (10 × 4 × 64 B plus 1,000 or 10,000 idle connections, each of which must echo a probe
  at the end).
- **Servers:** \`iomux echo-server --backend epoll --quiet\`, \`--backend uring\` and \`--backend select\` (run as
  \`node dist/cli/main.js echo-server …\`, so the figures are the server's own), and the references below.
- **Pinning:** a fresh server per scenario on CPU 1, the load generator on CPU 0.
- **Order:** round by round, scenario by scenario, every server of a scenario back to back, the order of the
  servers reversed every other round; ratios are judged on the means over the rounds (3 by default).
- **Server CPU per message** = the server's user + system CPU time over the window (tick-sampled, 10 ms) ÷ messages.
  Loopback TCP work done in softirq context is charged to whichever process is running, so it is a system cost.
  It is the fair figure where the load generator saturates its core (load-gen CPU % near 100): there the message
  rate measures echoload, not the server.
- **Rounds:** every server once, then every server again (interleaved), so a slow patch of machine time does not
  land on one server only. Figures are means over the runs used.
- **Disturbed runs:** this machine is shared. Before each measurement the runner waits (up to 60 s) until both
  CPUs are idle. Each window records every CPU's busy time (\`cpu_busy_pct\`); when processes other than the server
  and the load generator used more than 10 percentage points of a pinned CPU, the run is *disturbed*: it is left
  out of the figures (the table's notes name it) and, if a scenario has no undisturbed run left, the scenario is
  run again (up to two retry passes). Undisturbed runs show 0–9 points there (softirq work).
- **Noise:** even undisturbed runs differ: between complete runs of this suite on this machine, the same ratio
  (iomux ÷ C per message) moved by up to ±20 %. Treat differences under about 15 % as noise unless repeated.

## Anchors

- **The FFI floor:** \`anchors/koffi_epoll_echo.mjs\`, the smallest koffi epoll echo loop (no API layer, no checks);
  it resolves koffi from its working directory, so it runs in the repository's root.
- **C \`epoll_echo\`:** single-threaded level-triggered epoll in C; the practical limit of this machine.
- **C io_uring:** \`anchors/uring_echo.c\` (liburing: multishot accept, multishot recv into a provided buffer ring, one
  send in flight per connection), built where liburing's headers exist (\`apt-get install liburing-dev\`); the floor of
  \`iomux echo-server --backend uring\`.
- **Node \`net\`:** \`socket.on('data', d => socket.write(d))\` with noDelay (\`anchors/node_net_echo.js\`).
- **Python \`selectors\`:** \`selectors.DefaultSelector\` (epoll) with an output buffer (\`anchors/py_selectors_echo.py\`).
- **Python \`select.select\`:** the classic tutorial server (\`anchors/py_select_echo.py\`); it cannot go past fd 1023.

${section('echo', '')}

${section('memory', '')}

${section('echo-bench', '')}

${section('counts', '')}

${section('scaling', '')}

## Syscall costs

**Placeholder, to be filled by the lead** from the syscall micro-benchmark (\`npm run bench:syscalls\`).

${section('raw', '')}
`;

/** Replaces the body of each generated section present in `doc`; appends sections that are missing. */
export function spliceSections(doc: string, sections: Record<string, string>): string {
  let out = doc;
  for (const [name, body] of Object.entries(sections)) {
    // The marker's parenthesis named the writer as `iomux bench report` before the tools left the package.
    const re = new RegExp(`<!-- BEGIN GENERATED ${name} \\((iomux )?bench report\\) -->[\\s\\S]*?<!-- END GENERATED ${name} -->`);
    const replacement = section(name, body);
    out = re.test(out) ? out.replace(re, () => replacement) : `${out.trimEnd()}\n\n${replacement}\n`;
  }
  return out;
}

/** Writes the charts and the generated sections of the document; returns the files written. */
export async function writeReport(res: SuiteResults, o: ReportOptions): Promise<string[]> {
  mkdirSync(o.imgDir, { recursive: true });
  mkdirSync(dirname(o.doc), { recursive: true });
  const img = relative(dirname(o.doc), o.imgDir) || '.';
  const written: string[] = [];
  const svg = async (file: string, spec: Parameters<typeof renderSvg>[0]): Promise<void> => {
    const path = join(o.imgDir, file);
    writeFileSync(path, await renderSvg(spec));
    written.push(path);
  };
  const series = serversIn(res.echo).map(label);
  const when = `${res.meta.startedAt.slice(0, 10)}, ${res.meta.machine.cpuCount} × ${res.meta.machine.cpuModel}`;
  if (res.echo.length) {
    await svg('echo-cpu-per-msg.svg', barsSpec(bars(res.echo, 'server_cpu_us_per_msg', res.pins), {
      title: 'Server CPU time per echoed message, µs (lower is better)', subtitle: `run-echo.sh scenarios, ${when}`, groups: scenariosIn(res.echo), series, valueFormat: '.3~g',
    }));
    await svg('echo-msgs-per-s.svg', barsSpec(bars(res.echo, 'msgs_per_s', res.pins), {
      title: 'Messages echoed per second (higher is better)', subtitle: `run-echo.sh scenarios, ${when}`, groups: scenariosIn(res.echo), series, valueFormat: '.3~s',
    }));
    const rss: Bar[] = [];
    const memoryScenarios = scenariosIn(res.echo).filter((sc) => sc === 'lat' || sc.startsWith('idle'));
    for (const sc of memoryScenarios) {
      for (const sv of serversIn(res.echo)) {
        const v = meanAll(aggregate(res.echo, sv, sc, res.pins), 'server_rss_kb');
        if (v !== undefined) rss.push({ group: sc, series: label(sv), value: v / 1024 });
      }
    }
    if (rss.length) {
      await svg('echo-rss.svg', barsSpec(rss, {
        title: 'Server resident memory at the end of the window, MiB (lower is better)', subtitle: `run-echo.sh scenarios, ${when}`,
        groups: memoryScenarios, series, valueFormat: '.3~g',
      }));
    }
  }
  if (res.scaling) await svg('scaling.svg', scalingPlotSpec(res.scaling, `iomux select() / Poll.poll() / Epoll.wait(), ${when}`));

  const doc = existsSync(o.doc) ? readFileSync(o.doc, 'utf8') : SKELETON;
  const next = spliceSections(doc, {
    summary: summarySection(res),
    echo: res.echo.length ? echoSection(res, img) : '## Echo servers under echoload\n\nNot run.',
    memory: res.echo.length ? memorySection(res, img) : '## Memory\n\nNot run.',
    'echo-bench': echoBenchSection(res),
    counts: countsSection(res),
    scaling: scalingSection(res, img),
    raw: rawSection(res),
  });
  writeFileSync(o.doc, next);
  written.push(o.doc);
  return written;
}
