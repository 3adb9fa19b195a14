/**
 * Every public constant of iomux/select, iomux/socket and iomux/os has CPython's value on this machine: each
 * name is looked up in a live python3 (select, socket, os, then time for the clocks). The names CPython does
 * not have here are listed below with the reason, so a new constant is either Python's or explained.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as select from 'iomux/select';
import * as socket from 'iomux/socket';
import * as os from 'iomux/os';

/** iomux's names that CPython on Linux lacks, each with why iomux has it. */
const NOT_IN_PYTHON: Record<string, RegExp> = {
  // C's FD_SETSIZE (select() refuses an fd at or above it; CPython says so only in its error text).
  select: /^(FD_SETSIZE|KQ_\w+)$/, // KQ_*: kqueue's, BSD values (test/platform-tables checks them against the BSD headers)
  // <linux/if_ether.h>'s ETH_P_ALL, for AF_PACKET sockets; CPython leaves it out.
  socket: /^ETH_P_ALL$/,
  // os.TFD_* came with CPython 3.13; when this python3 has them they are compared like the rest.
  os: /^TFD_\w+$/,
};

const MODULES: Array<[string, Record<string, unknown>, string[]]> = [
  ['select', select, ['select']],
  ['socket', socket, ['socket']],
  ['os', os, ['os', 'time']],
];

/** Each name's value in the first of `modules` that has it (null where none has). */
function pythonValues(modules: string[], names: string[]): Record<string, number | null> {
  const script = [
    `import json, sys, ${modules.join(', ')}`,
    `mods = (${modules.join(', ')},)`,
    'print(json.dumps({n: next((getattr(m, n) for m in mods if hasattr(m, n)), None) for n in sys.argv[1:]}))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, ...names], { encoding: 'utf8' })) as Record<string, number | null>;
}

for (const [name, mod, pythonModules] of MODULES) {
  test(`iomux/${name}: every constant is CPython's (${pythonModules.join(', ')})`, () => {
    const names = Object.keys(mod).filter((k) => /^[A-Z][A-Z0-9_]+$/.test(k) && typeof mod[k] === 'number');
    assert.ok(names.length > 5, `constants of iomux/${name}: ${names.join(' ')}`);
    const python = pythonValues(pythonModules, names);
    const differ = names.filter((n) => python[n] !== null && python[n] !== mod[n]).map((n) => `${n}: iomux ${String(mod[n])}, python ${python[n]}`);
    assert.deepEqual(differ, []);
    const unexplained = names.filter((n) => python[n] === null && !NOT_IN_PYTHON[name]!.test(n));
    assert.deepEqual(unexplained, [], 'constants CPython does not have, with no reason given');
    const compared = names.filter((n) => python[n] !== null);
    assert.ok(compared.length >= 3, `only ${compared.length} of ${names.length} compared`);
  });
}
