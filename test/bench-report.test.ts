/**
 * The pieces of the benchmark report: the latency histogram, the message codec's verification, the targets
 * (current and earlier) computed from a results directory, and the document update that keeps hand-written text.
 * The echo figures are a small hand-made results directory (so each verdict is known in advance); the
 * scaling part is a real, very short run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The load generator's pieces ship but are not a public entry point: the package's private import map reaches them.
import { LatencyHistogram } from '#internal/load/histogram.js';
import { MessageCodec } from '#internal/load/messages.js';
import { range } from '../bench/format.js';
import { spliceSections, writeReport } from '../bench/report.js';
import { loadResults } from '../bench/results.js';
import { runScaling } from '../bench/scaling.js';
import { evaluateTargets } from '../bench/targets.js';

const tmp = mkdtempSync(join(tmpdir(), 'iomux-bench-report-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('LatencyHistogram', () => {
  test('percentiles within 1 %, exact min, max and mean', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.record(i); // 1 … 10,000 µs
    assert.equal(h.count, 10_000);
    assert.equal(h.min, 1);
    assert.equal(h.max, 10_000);
    assert.equal(h.mean, 5000.5);
    for (const [p, want] of [[50, 5000], [90, 9000], [99, 9900], [99.9, 9990]] as const) {
      const got = h.percentile(p);
      assert.ok(Math.abs(got / want - 1) <= 0.01, `p${p}: ${got} vs ${want}`);
    }
    assert.equal(new LatencyHistogram().percentile(50), 0);
  });
});

describe('MessageCodec', () => {
  test('messages differ from each other and an echo is checked byte for byte', () => {
    const codec = new MessageCodec(256);
    const a = Buffer.alloc(256);
    const b = Buffer.alloc(256);
    codec.write(a, 0, 7, 1, 256);
    codec.write(b, 0, 7, 2, 256);
    assert.notDeepEqual(a, b);
    assert.equal(codec.countBad(a, 0, 256, 7, 1, 0), 0);
    assert.equal(codec.countBad(a, 0, 256, 7, 2, 0) > 0, true);
    // A piece in the middle of the message, checked at its position.
    assert.equal(codec.countBad(a, 100, 50, 7, 1, 100), 0);
    a[3] ^= 1; // in the tag
    a[200] ^= 0xff; // in the body
    a[201] ^= 0x10;
    assert.equal(codec.countBad(a, 0, 256, 7, 1, 0), 3);
    // Shorter than the tag.
    const tiny = Buffer.alloc(3);
    codec.write(tiny, 0, 9, 5, 3);
    assert.equal(codec.countBad(tiny, 0, 3, 9, 5, 0), 0);
  });
});

type Line = Record<string, unknown>;

/** One run-echo.sh line with the fields the report reads. */
function line(server: string, scenario: string, cpuPerMsg: number, msgsPerS: number, extra: Line = {}): Line {
  return {
    server, scenario, run: 'round1', date: '2026-11-23T10:00:00Z', status: 'ok', server_alive: true,
    server_rss_kb: 50_000, server_hwm_kb: 60_000, msgs_per_s: msgsPerS, mb_per_s: (msgsPerS * 64) / 1e6,
    lat_p50_us: 30, lat_p99_us: 50, server_cpu_pct: 90, server_cpu_us_per_msg: cpuPerMsg, client_cpu_pct: 60,
    idle: scenario === 'idle1k' ? 1000 : scenario === 'idle10k' ? 10_000 : 0, idle_probe_ok: 0, cpu_busy_pct: [70, 90],
    ...extra,
  };
}

function writeResults(dir: string): void {
  const lines: Line[] = [
    // Two rounds of lat for iomux and the floor: 1.016× in round 1, 1.063× in round 2, 1.039× on the means.
    line('iomux_epoll', 'lat', 13.0, 38_000, { lat_p50_us: 26 }),
    line('iomux_epoll', 'lat', 13.4, 37_000, { lat_p50_us: 26, run: 'round2' }),
    line('koffi_epoll_echo', 'lat', 12.8, 38_500),
    line('koffi_epoll_echo', 'lat', 12.6, 38_600, { run: 'round2' }),
    line('epoll_echo', 'lat', 12.0, 40_000, { lat_p50_us: 24 }),
    line('node_net_echo', 'lat', 26.0, 28_000),
    line('py_selectors_echo', 'lat', 20.9, 31_000),
    line('iomux_epoll', 'tput64', 0.6, 2_000_000),
    line('koffi_epoll_echo', 'tput64', 0.62, 2_000_000),
    // Another process took 45 points of CPU 1 during this window: left out of the figures.
    line('iomux_epoll', 'tput64', 3.0, 500_000, { run: 'round2', server_cpu_pct: 50, client_cpu_pct: 55, cpu_busy_pct: [60, 95] }),
    line('epoll_echo', 'tput64', 0.45, 2_000_000, { client_cpu_pct: 99 }),
    line('node_net_echo', 'tput64', 0.93, 1_000_000),
    line('iomux_epoll', 'idle1k', 1.6, 600_000),
    // 5,000 KiB more for 9,000 more idle connections: 569 bytes each.
    line('iomux_epoll', 'idle10k', 1.7, 580_000, { server_rss_kb: 55_000 }),
    line('node_net_echo', 'idle1k', 3.8, 260_000, { server_rss_kb: 60_000 }),
    line('node_net_echo', 'idle10k', 3.9, 260_000, { server_rss_kb: 105_000 }),
    line('iomux_select', 'idle1k', 5.0, 100_000),
    line('py_select_echo', 'idle1k', 28.4, 35_000),
    line('iomux_select', 'idle10k', -1, 0, { status: 'errors', server_alive: true, conns: 10, idle_closed: 8996, resets: 10 }),
  ];
  writeFileSync(join(dir, 'echo.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  writeFileSync(join(dir, 'echo-bench.jsonl'), `${JSON.stringify(line('iomux_epoll', 'tput64', 0.7, 900_000, { verified_bytes: 123_456 }))}\n`);
  const scaling = runScaling({ maxFds: 20, msPerPoint: 3, rounds: 1 });
  writeFileSync(join(dir, 'scaling.json'), `${JSON.stringify({ bench: 'scaling', ...scaling })}\n`);
  const quiet = { at: '2026-11-23T10:00:00Z', loadavg: [0.1, 0.2, 0.3], cpuBusyPct: [1.5, 2], sampleS: 2 };
  const meta = {
    startedAt: '2026-11-23T10:00:00.000Z', finishedAt: '2026-11-23T10:10:00.000Z',
    machine: { cpuModel: 'Test CPU', cpuCount: 2, virtualized: true, kernel: '6.18.0', memoryGiB: 24, node: 'v20.20.2', python: 'Python 3.11.7', gcc: 'gcc (Debian 12.2.0-14) 12.2.0' },
    options: { sharedBench: '/x', rounds: 1, duration: 5, warmup: 2, scenarios: [], servers: [], port: 9400, maxFds: 20, echoBench: true, scaling: true, serverCpu: 1, loadCpu: 0 },
    quietBefore: quiet, quietAfter: quiet, serverCommands: {}, commit: 'abc1234',
  };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
}

describe('report', () => {
  const dir = join(tmp, 'run');
  test('targets are marked met or missed with their margin', async () => {
    mkdirSync(dir);
    writeResults(dir);
    const verdicts = evaluateTargets(loadResults(dir));
    const find = (text: string) => {
      const v = verdicts.find((x) => x.target === text);
      assert.ok(v, `no verdict '${text}' in ${verdicts.map((x) => x.target).join('; ')}`);
      return v;
    };
    // Issue 13: against the FFI floor, judged on the means of the rounds, the rounds' spread beside it.
    assert.deepEqual(find('server CPU per message ≤ 1.03× the FFI floor in lat'), {
      group: 'current', target: 'server CPU per message ≤ 1.03× the FFI floor in lat', met: false,
      measured: '1.039× (13.2 ±1.5 % vs 12.7 ±0.8 % µs/msg); by round 1.02–1.06× (2 rounds)',
      margin: "0.9 % over the limit; within the rounds' spread",
    });
    assert.deepEqual(find('server CPU per message ≤ 1.03× the FFI floor in tput64'), {
      group: 'current', target: 'server CPU per message ≤ 1.03× the FFI floor in tput64', met: true,
      measured: '0.968× (0.600 vs 0.620 µs/msg)', margin: '6.0 % under the limit',
    });
    const floor4k = find('server CPU per message ≤ 1.03× the FFI floor in tput4k');
    assert.equal(floor4k.met, null);
    assert.equal(floor4k.measured, 'the iomux server not run; the reference not run');
    const node64 = find("server CPU per message ≤ 0.6× Node's net echo in tput64");
    assert.equal(node64.met, false);
    assert.equal(node64.measured, '0.645× (0.600 vs 0.930 µs/msg)');
    assert.equal(node64.margin, '7.5 % over the limit');
    assert.equal(find("server CPU per message ≤ 0.6× Node's net echo in idle1k").met, true);
    assert.ok(!verdicts.some((v) => v.target === "server CPU per message ≤ 0.6× Node's net echo in lat"), 'lat is not a Node target');
    assert.deepEqual(find('resident memory per idle connection ≤ 0.6 KB (600 bytes), (RSS at idle10k − RSS at idle1k) ÷ 9,000'), {
      group: 'current', target: 'resident memory per idle connection ≤ 0.6 KB (600 bytes), (RSS at idle10k − RSS at idle1k) ÷ 9,000',
      met: true, measured: '569 bytes (48.8 → 53.7 MiB for 9,000 more)', margin: '5.2 % under the limit',
    });
    assert.deepEqual(verdicts.slice(0, 10).map((v) => v.group), Array(10).fill('current'));

    // Issue 6's targets, still checked.
    assert.deepEqual(find('server CPU per message ≤ 1.15× C epoll_echo in lat'), {
      group: 'earlier', target: 'server CPU per message ≤ 1.15× C epoll_echo in lat', met: true,
      measured: '1.100× (13.2 ±1.5 % vs 12.0 µs/msg)', margin: '4.3 % under the limit',
    });
    const tput = find('server CPU per message ≤ 1.00× C epoll_echo in tput64');
    assert.equal(tput.met, false);
    assert.equal(tput.margin, '33 % over the limit');
    assert.equal(find("server CPU per message ≤ 0.5× Node's net echo in lat").margin, '1.5 % over the limit');
    assert.equal(find("messages/s ≥ 1.8× Node's net echo in tput64").met, true);
    assert.equal(find("lat p50 ≤ 1.1× C epoll_echo's").met, true);
    assert.equal(find('server CPU per message ≤ 1.00× C epoll_echo in tput4k').met, null);
    const flat = find('idle10k CPU per message within 10 % of idle1k (epoll is flat)');
    assert.equal(flat.met, true);
    assert.match(flat.measured, /^\+6\.3 %/);
    assert.equal(find("server RSS with 10,000 idle connections ≤ 0.5× Node's net echo").margin, '4.8 % over the limit');
    assert.equal(find("select backend's messages/s > Python select.select server's in idle1k").met, true);
    const select10k = find('select backend refuses connections past fd 1023 without dying in idle10k');
    assert.equal(select10k.met, true);
    assert.match(select10k.measured, /alive at the end of 1 of 1 run\(s\); connections closed or reset by the server \(refused past fd 1023\): 9,006 of 10,010/);
    assert.ok(verdicts.some((v) => v.target.startsWith('scaling: poll grows')));
  });

  test('the document gets its generated sections and charts; hand-written text survives a rewrite', async () => {
    const doc = join(tmp, 'docs', 'benchmarks.md');
    const img = join(tmp, 'docs', 'img');
    const written = await writeReport(loadResults(dir), { doc, imgDir: img });
    assert.deepEqual(written.map((f) => f.slice(tmp.length)).sort(),
      ['/docs/benchmarks.md', '/docs/img/echo-cpu-per-msg.svg', '/docs/img/echo-msgs-per-s.svg', '/docs/img/echo-rss.svg', '/docs/img/scaling.svg']);
    let text = readFileSync(doc, 'utf8');
    assert.match(text, /## Syscall costs/);
    assert.match(text, /\| server CPU per message ≤ 1\.00× C epoll_echo in tput64 \| 1\.333× \(0\.600 vs 0\.450 µs\/msg\) \| \*\*missed\*\*: 33 % over the limit \|/);
    assert.match(text, /### Current targets: 4 met, 2 missed, 4 not measured\n/);
    assert.match(text, /\| server CPU per message ≤ 1\.03× the FFI floor in lat \| 1\.039× .* \| \*\*missed\*\*: 0\.9 % over the limit; within the rounds' spread \|/);
    assert.match(text, /\| server CPU per message ≤ 1\.03× the FFI floor in tput64 \| 0\.968× .* \| \*\*met\*\*: 6\.0 % under the limit \|/);
    assert.match(text, /### Earlier targets, against C and Node \(still checked\): /);
    // Noise: the spread of CPU per message between rounds, over the cells with two runs used.
    assert.match(text, /- \*\*Noise:\*\* server CPU per message differed between rounds by ± half-spread 0\.8–1\.5 % \(median 1\.5 %, widest: iomux epoll in lat\) over 2 cells\./);
    // The ratio table: iomux ÷ the floor with its range round by round, and the floor ÷ C.
    assert.match(text, /\| lat \| 1\.04× \(1\.02–1\.06\) \| 1\.10× \| 0\.51× \| 0\.63× \| 1\.06× \| 1\.34× \| 1\.08× \|/);
    assert.match(text, /\| lat \| \*\*iomux epoll\*\* \| 2\/2 \| 37,500 ±1\.3 % \|.*\| 13\.20 ±1\.5 % \|/);
    assert.match(text, /\| lat \| FFI floor \(koffi\) \| 2\/2 \|/);
    assert.match(text, /!\[Server CPU time per message, by scenario and server\]\(img\/echo-cpu-per-msg\.svg\)/);
    assert.match(text, /\| tput64 \| C epoll_echo \| 1\/1 \| 2,000,000 \|.*load generator saturated/);
    assert.match(text, /\| tput64 \| \*\*iomux epoll\*\* \| 1\/2 \| 2,000,000 \|.*round2 left out: other processes used 45 % of a pinned CPU/);
    assert.match(text, /1 of 19 ok runs were/);
    assert.match(text, /\n- \*\*Code:\*\* commit abc1234\.\n/);
    // Memory: one row per server, the bytes per idle connection from idle1k and idle10k.
    assert.match(text, /\| iomux epoll \| 48\.8 \| 48\.8 \| 53\.7 \| 58\.6 \| 569 \|/);
    assert.match(text, /\| Node net \| 48\.8 \| 58\.6 \| 102\.5 \| 58\.6 \| 5,120 \|/);
    assert.match(text, /\| iomux select \| - \| 48\.8 \| 48\.8 \| 58\.6 \| idle10k not ok \|/);
    for (const svg of written.filter((f) => f.endsWith('.svg'))) assert.match(readFileSync(svg, 'utf8'), /^<svg[\s\S]*<\/svg>\s*$/);

    // Hand-written prose between sections is kept; a generated section is replaced, not duplicated.
    text = text.replace('## Syscall costs\n', '## Syscall costs\n\nA paragraph written by hand.\n');
    writeFileSync(doc, text);
    await writeReport(loadResults(dir), { doc, imgDir: img });
    const again = readFileSync(doc, 'utf8');
    assert.match(again, /A paragraph written by hand\./);
    assert.equal(again.match(/BEGIN GENERATED summary/g)?.length, 1);
  });

  test('spliceSections replaces a section under the marker older documents carry', () => {
    const old = '# T\n\n<!-- BEGIN GENERATED extra (iomux bench report) -->\nold\n<!-- END GENERATED extra -->\n';
    assert.equal(spliceSections(old, { extra: 'new' }), '# T\n\n<!-- BEGIN GENERATED extra (bench report) -->\nnew\n<!-- END GENERATED extra -->\n');
  });

  test('ranges of whole numbers read without a dash that looks like a minus sign', () => {
    assert.equal(range(579, 793), '579–793');
    assert.equal(range(-62, -31), '-62 to -31');
    assert.equal(range(-5, 1200), '-5 to 1,200');
  });

  test('spliceSections appends a section the document lacks', () => {
    const out = spliceSections('# Title\n\ntext\n', { extra: 'body' });
    assert.equal(out, '# Title\n\ntext\n\n<!-- BEGIN GENERATED extra (bench report) -->\nbody\n<!-- END GENERATED extra -->\n');
  });
});

describe('bench all / bench report arguments', () => {
  const MAIN = fileURLToPath(new URL('../bench/main.js', import.meta.url));
  const cli = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  const cliEnv = (env: NodeJS.ProcessEnv, ...args: string[]) =>
    spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });

  test('bad arguments name the option and exit with status 2, before anything runs', () => {
    const empty = join(tmp, 'empty-meta');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'meta.json'), '');
    const hollow = join(tmp, 'hollow-meta');
    mkdirSync(hollow, { recursive: true });
    writeFileSync(join(hollow, 'meta.json'), '{}');
    for (const [args, message] of [
      [['all', '--rounds', '0'], 'bench all: --rounds must be an integer from 1 to 100 (got 0)'],
      [['all', '--rounds', '-1'], 'bench all: --rounds must be an integer from 1 to 100 (got -1)'],
      [['all', '--scenarios', 'lat,huge'], "bench all: --scenarios takes a comma-separated list of lat, tput64, tput4k, idle1k, idle10k (got 'lat,huge')"],
      [['all', '--servers', 'nginx'], /^bench all: --servers takes a comma-separated list of iomux_epoll, .* \(got 'nginx'\)$/],
      [['all', '--quiet-wait', '-1'], 'bench all: --quiet-wait must be at least 0 and at most 3600 seconds (got -1)'],
      [['report'], 'bench report: --from DIR is required (the results directory of `bench all`)'],
      [['report', '--from', tmp], `bench report: --from: ${tmp} has no meta.json`],
      [['report', '--from', empty], `bench report: --from: ${empty}/meta.json is not the JSON \`bench all\` writes (it is empty)`],
      [['report', '--from', hollow], `bench report: --from: ${hollow}/meta.json is not the meta.json \`bench all\` writes (no startedAt)`],
      [['frobnicate'], "bench: unknown command 'frobnicate' (bench --help lists the commands)"],
    ] as const) {
      const r = cli(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      const line = r.stderr.replace(/\n$/, '');
      assert.doesNotMatch(line, /\n/, 'one line');
      if (typeof message === 'string') assert.equal(line, message);
      else assert.match(line, message);
    }
    // A missing shared kit is not a usage error: one line naming the directory and how to point elsewhere, status 1.
    const noKit = cli('all', '--shared-bench', tmp);
    assert.equal(noKit.status, 1, noKit.stderr);
    assert.equal(noKit.stderr, `bench all: the shared benchmark kit is missing: ${tmp} (--shared-bench) has no run-echo.sh; ` +
      'pass --shared-bench DIR or set IOMUX_SHARED_BENCH\n');
    const noKitEnv = cliEnv({ IOMUX_SHARED_BENCH: join(tmp, 'nowhere') }, 'all');
    assert.equal(noKitEnv.status, 1, noKitEnv.stderr);
    assert.equal(noKitEnv.stderr, `bench all: the shared benchmark kit is missing: ${join(tmp, 'nowhere')} (IOMUX_SHARED_BENCH) has no ` +
      'run-echo.sh; pass --shared-bench DIR or set IOMUX_SHARED_BENCH\n');
    const help = cli('all', '--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--shared-bench DIR/);
    assert.match(help.stdout, /--rounds N +interleaved rounds \(default 3/);
  });
});

// Lines of a real short run on this machine (`bench all --servers iomux_uring,uring_echo,epoll_echo,… --scenarios
// lat,tput64 --rounds 1 --duration 1`, 2026-12-07, a busy machine: the figures are not a verdict on the code).
const URING_ECHO_LINES = [
  {"server":"iomux_uring","scenario":"lat","run":"round1","date":"2026-12-07T17:51:41Z","status":"ok","server_alive":true,"server_rss_kb":66364,"server_hwm_kb":67148,"msgs_per_s":12740.0,"mb_per_s":0.82,"lat_p50_us":50.4,"lat_p99_us":358.4,"server_cpu_pct":53.0,"server_cpu_us_per_msg":41.601,"client_cpu_pct":33.7,"idle":0,"idle_probe_ok":0,"cpu_busy_pct":[49.5,92.9],"corrupt_bytes":0,"missing_bytes":0,"extra_bytes":0},
  {"server":"epoll_echo","scenario":"lat","run":"round1","date":"2026-12-07T17:51:58Z","status":"ok","server_alive":true,"server_rss_kb":1368,"server_hwm_kb":1368,"msgs_per_s":29309.0,"mb_per_s":1.88,"lat_p50_us":31.4,"lat_p99_us":58.1,"server_cpu_pct":47.0,"server_cpu_us_per_msg":16.036,"client_cpu_pct":54.6,"idle":0,"idle_probe_ok":0,"cpu_busy_pct":[57.4,48.3],"corrupt_bytes":0,"missing_bytes":0,"extra_bytes":0},
  {"server":"uring_echo","scenario":"lat","run":"round1","date":"2026-12-07T17:52:02Z","status":"ok","server_alive":true,"server_rss_kb":18596,"server_hwm_kb":18596,"msgs_per_s":8825.0,"mb_per_s":0.56,"lat_p50_us":66.0,"lat_p99_us":1613.8,"server_cpu_pct":39.0,"server_cpu_us_per_msg":44.193,"client_cpu_pct":39.7,"idle":0,"idle_probe_ok":0,"cpu_busy_pct":[61.5,95.0],"corrupt_bytes":0,"missing_bytes":0,"extra_bytes":0},
  {"server":"iomux_uring","scenario":"tput64","run":"round1","date":"2026-12-07T17:52:15Z","status":"ok","server_alive":true,"server_rss_kb":70148,"server_hwm_kb":70148,"msgs_per_s":1135888.0,"mb_per_s":72.7,"lat_p50_us":337.9,"lat_p99_us":5013.5,"server_cpu_pct":54.0,"server_cpu_us_per_msg":0.475,"client_cpu_pct":55.3,"idle":0,"idle_probe_ok":0,"cpu_busy_pct":[71.6,96.0],"corrupt_bytes":0,"missing_bytes":0,"extra_bytes":0},
  {"server":"epoll_echo","scenario":"tput64","run":"round1","date":"2026-12-07T17:52:34Z","status":"ok","server_alive":true,"server_rss_kb":1364,"server_hwm_kb":1364,"msgs_per_s":1592432.0,"mb_per_s":101.92,"lat_p50_us":350.2,"lat_p99_us":4423.7,"server_cpu_pct":70.0,"server_cpu_us_per_msg":0.44,"client_cpu_pct":73.9,"idle":0,"idle_probe_ok":0,"cpu_busy_pct":[90.9,90.0],"corrupt_bytes":0,"missing_bytes":0,"extra_bytes":0},
  {"server":"uring_echo","scenario":"tput64","run":"round1","date":"2026-12-07T17:52:40Z","status":"ok","server_alive":true,"server_rss_kb":18592,"server_hwm_kb":18592,"msgs_per_s":698304.0,"mb_per_s":44.69,"lat_p50_us":602.1,"lat_p99_us":8716.3,"server_cpu_pct":42.0,"server_cpu_us_per_msg":0.601,"client_cpu_pct":54.0,"idle":0,"idle_probe_ok":0,"cpu_busy_pct":[95.9,88.4],"corrupt_bytes":0,"missing_bytes":0,"extra_bytes":0},
];
const URING_COUNT_LINES = [
  {"server":"iomux_uring","scenario":"lat","window_s":1,"msgs":16631,"syscalls":32933,"crossings":32896,"syscalls_per_msg":1.9802176658048223,"crossings_per_msg":1.977992904816307},
  {"server":"iomux_uring","scenario":"tput64","window_s":1,"msgs":217824,"syscalls":13745,"crossings":13694,"syscalls_per_msg":0.06310140296753342,"crossings_per_msg":0.06286726898780667},
  {"server":"uring_echo","scenario":"lat","window_s":1,"msgs":3392,"syscalls":6451,"crossings":null,"syscalls_per_msg":1.9018278301886793,"crossings_per_msg":null},
  {"server":"uring_echo","scenario":"tput64","window_s":1,"msgs":142704,"syscalls":3658,"crossings":null,"syscalls_per_msg":0.025633479089584035,"crossings_per_msg":null},
];

describe('report: the io_uring rows', () => {
  const dir = join(tmp, 'uring-run');
  test('iomux uring against C epoll and C io_uring, and its counts per message, are judged against issue 22\'s limits', () => {
    mkdirSync(dir);
    writeResults(dir);
    writeFileSync(join(dir, 'echo.jsonl'), `${URING_ECHO_LINES.map((l) => JSON.stringify(l)).join('\n')}\n`);
    writeFileSync(join(dir, 'counts.jsonl'), `${URING_COUNT_LINES.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const verdicts = evaluateTargets(loadResults(dir));
    const uring = verdicts.filter((v) => v.group === 'uring');
    assert.deepEqual(uring.map((v) => [v.target, v.met]), [
      ['uring: server CPU per message ≤ 1.00× C epoll_echo in tput64', false],
      ['uring: server CPU per message ≤ 1.00× C epoll_echo in tput4k', null],
      ['uring: server CPU per message ≤ 1.00× C epoll_echo in idle10k', null],
      ['uring: server CPU per message ≤ 1.05× C epoll_echo in lat', false],
      ['uring: server CPU per message ≤ 1.10× C io_uring (uring_echo) in lat', true],
      ['uring: server CPU per message ≤ 1.10× C io_uring (uring_echo) in tput64', true],
      ['uring: server CPU per message ≤ 1.10× C io_uring (uring_echo) in tput4k', null],
      ['uring: server CPU per message ≤ 1.10× C io_uring (uring_echo) in idle1k', null],
      ['uring: server CPU per message ≤ 1.10× C io_uring (uring_echo) in idle10k', null],
      ['uring: system calls per message ≤ 0.25 in tput64', true],
      ['uring: FFI crossings (N-API calls into koffi) per message ≤ 0.1 in tput64', true],
    ]);
    assert.deepEqual([uring[0]!.measured, uring[0]!.margin], ['1.080× (0.475 vs 0.440 µs/msg)', '8.0 % over the limit']);
    assert.deepEqual([uring[3]!.measured, uring[3]!.margin], ['2.594× (41.6 vs 16.0 µs/msg)', '2.47× the limit']);
    assert.equal(uring[4]!.measured, '0.941× (41.6 vs 44.2 µs/msg)');
    assert.deepEqual([uring[9]!.measured, uring[9]!.margin], ['0.063 per message', '75 % under the limit']);
    assert.deepEqual([uring[10]!.measured, uring[10]!.margin], ['0.063 per message', '37 % under the limit']);
  });

  test('the document shows the uring ratios by scenario and the counts per server', async () => {
    const doc = join(tmp, 'uring-docs', 'benchmarks.md');
    await writeReport(loadResults(dir), { doc, imgDir: join(tmp, 'uring-docs', 'img') });
    const text = readFileSync(doc, 'utf8');
    assert.match(text, /### io_uring targets \(iomux uring against C epoll and the C io_uring anchor\): 4 met, 2 missed, 5 not measured\n/);
    assert.match(text, /### iomux uring against C epoll and C io_uring/);
    assert.match(text, /\| scenario \| CPU\/msg ÷ C epoll \| CPU\/msg ÷ C io_uring \| CPU\/msg ÷ iomux epoll \| CPU\/msg ÷ FFI floor \| C io_uring ÷ C epoll \(CPU\/msg\) \| p50 ÷ C epoll \|/);
    assert.match(text, /\| lat \| 2\.59× \| 0\.94× \| - \| - \| 2\.76× \| 1\.61× \|/);
    assert.match(text, /\| tput64 \| 1\.08× \| 0\.79× \| - \| - \| 1\.37× \| 0\.96× \|/);
    assert.match(text, /## System calls and FFI crossings per message/);
    assert.match(text, /\| tput64 \| \*\*iomux uring\*\* \| 0\.063 \| 0\.063 \| 217,824 \|  \|/);
    assert.match(text, /\| tput64 \| C io_uring \(uring_echo\) \| 0\.026 \| - \| 142,704 \|  \|/);
    assert.match(text, /counts\.jsonl: system calls and FFI crossings \(4 lines\)/);
  });

  test('without a counting pass the count targets are not measured, and say why', () => {
    rmSync(join(dir, 'counts.jsonl'));
    const v = evaluateTargets(loadResults(dir)).filter((x) => x.target.startsWith('uring: system calls'));
    assert.deepEqual(v.map((x) => [x.met, x.measured]), [[null, 'the counting pass did not run (or perf could not count)']]);
  });
});
