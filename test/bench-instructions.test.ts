/**
 * `bench instructions`' readers and verdicts, on real output kept as fixtures (test/fixtures): a callgrind file
 * of a tiny C program (1,100 send() and 1,000 recv() calls, some through the PLT resolver, under
 * `--toggle-collect=main`), `perf trace -S` / `-s` and `strace -C -f` output taken from echo servers under
 * echoload (excerpts: the first lines and the summary). Then the command's one-line errors: bad options, and
 * the tools missing from the PATH. Nothing is measured.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  batchingDiffers, instructionFigures, instructionVerdict, parseCallgrind, parsePerfTraceSummary, parseStraceSummary, sentBytesInTrace,
  ssBytesSent, windowMessages,
} from '../bench/instructions-parse.js';
import { figuresOf, instructionRows, scenarioArgs, widestBound, type InstructionLine } from '../bench/instructions.js';
import { PACKAGE_ROOT } from './support/children.js';

const fixture = (name: string): string => readFileSync(join(PACKAGE_ROOT, 'test', 'fixtures', name), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'iomux-bench-instructions-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('callgrind output', () => {
  test('the total and the calls of named functions, summed over every call site, through compressed names', () => {
    const c = parseCallgrind(fixture('callgrind-send-recv.out'), ['send', 'recv', 'epoll_wait']);
    // tiny.c: 1,000 × (send + recv), then 100 more sends; callgrind: "I refs: 37,818".
    assert.deepEqual(c, { ir: 37_818, calls: { send: 1100, recv: 1000, epoll_wait: 0 } });
  });

  test('a dump taken with instrumentation off says summary: 0; the figure is in totals:', () => {
    const text = '# callgrind format\nversion: 1\nevents: Ir\nsummary: 0\n\nfn=(1) send\n28 5\n\nfn=(2) main\ncfn=(1)\ncalls=5 28\n0 50\n\ntotals: 854008789\n';
    assert.deepEqual(parseCallgrind(text, ['send']), { ir: 854_008_789, calls: { send: 5 } });
  });

  test('text that is not a callgrind file is an error, not a zero', () => {
    assert.throws(() => parseCallgrind('hello\n', ['send']), /not a callgrind output file/);
  });
});

describe('syscall tracers', () => {
  test('perf trace -S: the summary by syscall, and the bytes the traced sendto() calls returned', () => {
    const text = fixture('perf-trace-S.txt');
    assert.deepEqual(parsePerfTraceSummary(text), { sendto: 20_377, recvfrom: 20_364, epoll_wait: 2106 });
    // The excerpt keeps five traced sendto lines of 256 bytes (four 64-byte messages each).
    assert.equal(sentBytesInTrace(text), 5 * 256);
  });

  test('perf trace -s: the tables of every thread are summed', () => {
    const counts = parsePerfTraceSummary(fixture('perf-trace-s-threads.txt'));
    assert.equal(counts.sendto, 21_773);
    assert.equal(counts.futex, 14 + 9 + 5 + 5 + 7);
    assert.equal(counts.mmap, 17 + 1 + 1);
    assert.equal(counts.getpid, 1);
    assert.equal(counts.syscall, undefined);
  });

  test('strace -C -f: the summary without its total row, the sendto bytes including a resumed call; unfinished halves not counted', () => {
    const text = fixture('strace-C.txt');
    assert.deepEqual(parseStraceSummary(text), { sendto: 7623, recvfrom: 7623, epoll_wait: 763 });
    assert.equal(sentBytesInTrace(text), 5 * 256);
    const split = '12950 sendto(20, ""..., 256, MSG_NOSIGNAL, NULL, 0 <unfinished ...>\n12950 <... sendto resumed>) = 256\n';
    assert.equal(sentBytesInTrace(split), 256);
    // A blank errors or usecs/call column still parses.
    assert.deepEqual(parseStraceSummary('% time     seconds  usecs/call     calls    errors syscall\n  0.00    0.000000           0         3         1 futex\n'
      + '  0.00    0.000000                     2           mmap\n------\n100.00    0.000000           0         5         1 total\n'), { futex: 3, mmap: 2 });
  });

  test('outputs without a summary are errors', () => {
    assert.throws(() => parsePerfTraceSummary('sendto() = 1\n'), /no "Summary of events:"/);
    assert.throws(() => parseStraceSummary('sendto() = 1\n'), /no "% time seconds/);
  });
});

describe('counting messages and the verdict', () => {
  test('ss -ti: bytes_sent summed over the listed sockets', () => {
    const ss = 'ESTAB 0 0 127.0.0.1:9410 127.0.0.1:51234\n\t cubic wscale:7,7 rto:201 bytes_sent:2300672 bytes_acked:2300673 bytes_received:2300672\n'
      + 'ESTAB 0 0 127.0.0.1:9410 127.0.0.1:51236\n\t cubic bytes_sent:1000 bytes_received:1000\nESTAB 0 0 127.0.0.1:9410 127.0.0.1:51240\n\t cubic\n';
    assert.equal(ssBytesSent(ss), 2_301_672);
  });

  test('the window between two toggles: the middle of its bounds, and how wide they are', () => {
    // Before on 1,000 B, after on 1,640; before off 65,000, after off 65,640; 64-byte messages.
    const w = windowMessages({ onBefore: 1000, onAfter: 1640, offBefore: 65_000, offAfter: 65_640 }, 64);
    assert.equal(w.msgs, 1000);
    assert.equal(w.boundPct, 1);
    assert.equal(windowMessages({ onBefore: 5, onAfter: 5, offBefore: 5, offAfter: 5 }, 64).boundPct, Infinity);
  });

  test('iomux ÷ floor in instructions per message: met, missed, and the batching caveat', () => {
    const floor = instructionFigures(2_393_000, 1000, 4240);
    assert.equal(floor.irPerSend, 2393);
    assert.ok(Math.abs(floor.msgsPerSend - 4.24) < 1e-9);
    const within = instructionVerdict(instructionFigures(2_440_000, 1000, 4240), floor);
    assert.equal(within.ratio.toFixed(4), '1.0196');
    assert.deepEqual([within.met, within.margin, within.caveat], [true, '1.0 % under the limit', undefined]);
    const over = instructionVerdict(instructionFigures(3_310_000, 1000, 4240), floor);
    assert.equal(over.met, false);
    assert.equal(over.margin, '34 % over the limit');
    assert.equal(over.caveat, undefined);
    // Exactly at the limit is met.
    assert.equal(instructionVerdict({ irPerMsg: 103, irPerSend: 103, msgsPerSend: 1 }, { irPerMsg: 100, irPerSend: 100, msgsPerSend: 1 }).met, true);
    const batched = instructionVerdict(instructionFigures(2_000_000, 1000, 5000), floor);
    assert.equal(batched.met, true);
    assert.equal(batched.caveat, 'batching differs: 5.00 vs 4.24 messages per send');
    assert.equal(batchingDiffers(4.24, 4.3), false);
    assert.equal(batchingDiffers(4.24, 4.4), true);
  });

  test('figures of a server: means over its ok callgrind lines, failed lines and syscall lines left aside', () => {
    const l = (status: string, irPerMsg: number, kind: InstructionLine['kind'] = 'callgrind'): InstructionLine => ({
      kind, server: 'iomux_epoll', scenario: 'lat', run: 'round1', date: '', status, ir_per_msg: irPerMsg, ir_per_send: irPerMsg, msgs_per_send: 1,
    });
    assert.deepEqual(figuresOf([l('ok', 100), l('ok', 110), l('failed', 1), l('ok', 5, 'syscalls')], 'iomux_epoll', 'lat'),
      { irPerMsg: 105, irPerSend: 105, msgsPerSend: 1 });
    assert.equal(figuresOf([l('failed', 1)], 'iomux_epoll', 'lat'), undefined);
    const bounded = [{ ...l('ok', 100), msgs_bound_pct: 0.4 }, { ...l('ok', 100), msgs_bound_pct: 7.5 }, { ...l('failed', 1), msgs_bound_pct: 90 }];
    assert.equal(widestBound(bounded, 'iomux_epoll', 'lat'), 7.5);
    assert.equal(widestBound(bounded, 'koffi_epoll_echo', 'lat'), 0);
    // A row whose message count is that uncertain says so.
    const rows = instructionRows(bounded.slice(0, 2));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]![7], 'message count uncertain (±8 %): a longer --seconds');
    // A failed run's error takes the notes.
    assert.equal(instructionRows(bounded)[0]![7], 'failed: ');
  });

  test("the scenarios' echoload arguments come from run-echo.sh's scenario_args", () => {
    const runEcho = 'x=1\nscenario_args() {\n    case $1 in\n    lat)     echo "--conns 1 --depth 1 --size 64" ;;\n'
      + '    idle1k)  echo "--conns 10 --depth 4 --size 64 --idle 1000" ;;\n    *) return 1 ;;\n    esac\n}\nlat) echo "no"\n';
    assert.deepEqual(scenarioArgs(runEcho), {
      lat: ['--conns', '1', '--depth', '1', '--size', '64'], idle1k: ['--conns', '10', '--depth', '4', '--size', '64', '--idle', '1000'],
    });
  });
});

describe('bench instructions: errors', () => {
  const MAIN = fileURLToPath(new URL('../bench/main.js', import.meta.url));
  const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
    spawnSync(process.execPath, [MAIN, 'instructions', ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });

  /** A kit with only the run-echo.sh the command reads (nothing is built: the tools are checked first). */
  const kit = join(tmp, 'kit');
  mkdirSync(join(kit, 'anchors'), { recursive: true });
  writeFileSync(join(kit, 'run-echo.sh'), 'scenario_args() {\n    case $1 in\n    lat)     echo "--conns 1 --depth 1 --size 64" ;;\n    esac\n}\n');
  writeFileSync(join(kit, 'anchors', 'koffi_epoll_echo.mjs'), '');
  /** An empty PATH (node is spawned by its absolute path): no valgrind, perf, strace or ss. */
  const bare = join(tmp, 'bin');
  mkdirSync(bare, { recursive: true });
  const nodeOnly = { PATH: bare };

  test('bad options: one line naming the option, status 2', () => {
    const r = cli({}, '--seconds', '0');
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'bench instructions: --seconds must be at least 0.5 and at most 3600 seconds (got 0)\n');
    const all = spawnSync(process.execPath, [MAIN, 'all', '--instr-seconds', '0'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(all.status, 2);
    assert.equal(all.stderr, 'bench all: --instr-seconds must be at least 0.5 and at most 3600 seconds (got 0)\n');
    const help = spawnSync(process.execPath, [MAIN, 'all', '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.match(help.stdout, /--skip-instructions +do not count instructions \(callgrind\) and syscalls \(perf trace\) per message/);
    const s = cli({}, '--scenarios', 'lat,huge');
    assert.equal(s.status, 2);
    assert.match(s.stderr, /^bench instructions: --scenarios takes a comma-separated list of lat, tput64, tput4k, idle1k, idle10k \(got 'lat,huge'\)\n$/);
  });

  test('without valgrind, or without perf and strace: one line saying what is missing, status 1', () => {
    const r = cli(nodeOnly, '--shared-bench', kit, '--scenarios', 'lat');
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, 'bench instructions: valgrind is not installed (it counts the instructions; e.g. apt-get install valgrind)\n');
    assert.equal(r.stdout, '');
    const s = cli(nodeOnly, '--shared-bench', kit, '--scenarios', 'lat', '--syscalls-only');
    assert.equal(s.status, 1, s.stderr);
    assert.equal(s.stderr, 'bench instructions: neither perf (perf trace) nor strace works here: cannot count system calls\n');
  });
});
