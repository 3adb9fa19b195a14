/**
 * bench/counts.ts: the parsers on output captured from this machine's tools (perf 6.x, binutils' nm and readelf on
 * Node 20's binary), and a real count: perf with the N-API uprobe around a Node process that makes a known number
 * of koffi calls must count exactly those crossings (beside the process's own start-up) and at least as many
 * system calls.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  countLine, CROSSING_EVENT, fileOffset, NAPI_CALL_SYMBOL, parsePerfStat, perfStatCommand, removeCrossingProbe, setUpCounters, symbolAddress, SYSCALL_EVENT,
} from '../bench/counts.js';
import { REPO_ROOT } from '../bench/suite.js';

const tmp = mkdtempSync(join(tmpdir(), 'iomux-bench-counts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// `perf stat -x, -e raw_syscalls:sys_enter,iomux_bench:napi_call -- true`, and a counter the kernel refused.
const PERF_STAT = `29,,raw_syscalls:sys_enter,1975568,100.00,,
0,,iomux_bench:napi_call,1975568,100.00,,
`;
const PERF_NOT_COUNTED = `<not counted>,,raw_syscalls:sys_enter,0,0.00,,
<not supported>,,iomux_bench:napi_call,0,0.00,,
`;
// `nm /usr/bin/node | grep FunctionCallbackWrapper` (Node 20.20.2): the symbol, and a lookalike that is not it.
const NM = `000000000261dcb0 r _ZZN10napi_env__14CallIntoModuleIZN6v8impl12_GLOBAL__N_123FunctionCallbackWrapper14InvokeCallbackEvEUlPS_E_ZNS3_14InvokeCallbackEvEUlS4_N2v85LocalINS6_5ValueEEEE0_EEvOT_OT0_E20error_and_abort_args
0000000000c45d40 t ${NAPI_CALL_SYMBOL}
                 U napi_create_function
`;
// `readelf -lW /usr/bin/node`, its program headers.
const READELF = `  Type           Offset   VirtAddr           PhysAddr           FileSiz  MemSiz   Flg Align
  PHDR           0x000040 0x0000000000400040 0x0000000000400040 0x0002d8 0x0002d8 R   0x8
  LOAD           0x000000 0x0000000000400000 0x0000000000400000 0x76e5d8 0x76e5d8 R   0x1000
  LOAD           0x76f000 0x0000000000b6f000 0x0000000000b6f000 0x001e90 0x001e90 R E 0x1000
  LOAD           0x772000 0x0000000000b72000 0x0000000000b72000 0x1a8bca0 0x1a8bca0 R E 0x1000
  LOAD           0x5239ec8 0x000000000563aec8 0x000000000563aec8 0x0215f8 0x04dfc8 RW  0x1000
`;

describe('bench counts: parsers', () => {
  test('perf stat -x, lines: each event\'s count, null where the kernel did not count', () => {
    assert.deepEqual([...parsePerfStat(PERF_STAT)], [[SYSCALL_EVENT, 29], [CROSSING_EVENT, 0]]);
    assert.deepEqual([...parsePerfStat(PERF_NOT_COUNTED)], [[SYSCALL_EVENT, null], [CROSSING_EVENT, null]]);
    assert.equal(parsePerfStat('').size, 0);
    assert.deepEqual(perfStatCommand([SYSCALL_EVENT, CROSSING_EVENT], 123, 3),
      ['perf', 'stat', '-x,', '-e', `${SYSCALL_EVENT},${CROSSING_EVENT}`, '-p', '123', '--', 'sleep', '3']);
  });

  test('the trampoline\'s address from nm, and its file offset (what a uprobe takes) from readelf', () => {
    assert.equal(symbolAddress(NM, NAPI_CALL_SYMBOL), 0xc45d40);
    assert.equal(symbolAddress(NM, 'napi_create_function'), undefined, 'an undefined symbol has no address');
    assert.equal(fileOffset(READELF, 0xc45d40), 0xc45d40 - 0xb72000 + 0x772000);
    assert.equal(fileOffset(READELF, 0x100), undefined);
  });

  test('a count line divides by the messages of the window; no count, or no message, gives no ratio', () => {
    const counts = parsePerfStat(`300000,,${SYSCALL_EVENT},1,100.00,,\n20000,,${CROSSING_EVENT},1,100.00,,\n`);
    assert.deepEqual(countLine('iomux_uring', 'tput64', 2, 500_000, counts, true), {
      server: 'iomux_uring', scenario: 'tput64', window_s: 2, msgs: 1_000_000, syscalls: 300_000, crossings: 20_000,
      syscalls_per_msg: 0.3, crossings_per_msg: 0.02,
    });
    const c = countLine('epoll_echo', 'lat', 2, 0, counts, false, 'echoload reported no messages');
    assert.deepEqual([c.crossings, c.syscalls_per_msg, c.crossings_per_msg, c.note], [null, null, null, 'echoload reported no messages']);
  });
});

describe('bench counts: with perf', () => {
  test('a Node process making 20,000 koffi calls: 20,000 more crossings than one making none, and as many system calls', () => {
    const counters = setUpCounters(process.execPath);
    after(() => removeCrossingProbe());
    assert.deepEqual(counters.missing, []);
    assert.deepEqual(counters.events, [SYSCALL_EVENT, CROSSING_EVENT]);
    const script = join(tmp, 'calls.mjs');
    writeFileSync(script, `const sys = await import(${JSON.stringify(join(REPO_ROOT, 'dist', 'sys', 'index.js'))});
const n = Number(process.argv[2]);
for (let i = 0; i < n; i++) sys.getpid();
`);
    const count = (n: number): Map<string, number | null> => {
      const r = spawnSync('perf', ['stat', '-x,', '-e', counters.events.join(','), '--', process.execPath, script, String(n)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return parsePerfStat(r.stderr);
    };
    const none = count(0);
    const many = count(20_000);
    const crossings = many.get(CROSSING_EVENT)! - none.get(CROSSING_EVENT)!;
    assert.ok(crossings >= 20_000 && crossings < 20_200, `${crossings} crossings counted for 20,000 calls`);
    const syscalls = many.get(SYSCALL_EVENT)! - none.get(SYSCALL_EVENT)!;
    assert.ok(syscalls >= 19_000, `${syscalls} system calls counted for 20,000 getpid()`);
  });
});
