/**
 * `bench all`'s plan, without running it: the servers it compares (the FFI floor's command and working
 * directory above all), the interleaved order of the measurements, which servers it runs on this machine, and
 * the one-line errors for a missing or incomplete shared kit. Fast: nothing is measured.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import {
  buildSharedBench, DEFAULT_TOOLS_BIN, defaultSharedBench, describeCommit, estimateSeconds, liburingMissing, REPO_ROOT, schedule, selectServers, SERVERS, SetupError,
  type ServerSpec,
} from '../bench/suite.js';

const tmp = mkdtempSync(join(tmpdir(), 'iomux-bench-suite-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const byName = (name: string): ServerSpec => {
  const s = SERVERS.find((x) => x.name === name);
  assert.ok(s, `no server ${name}`);
  return s;
};

/** A stand-in for the shared kit: the files `bench all` checks, empty (nothing here is built or run). */
function fakeKit(dir: string, anchors: string[]): string {
  mkdirSync(join(dir, 'anchors'), { recursive: true });
  for (const f of ['run-echo.sh', 'Makefile', 'echoload.c', 'epoll_echo.c', ...anchors.map((a) => join('anchors', a))]) {
    writeFileSync(join(dir, f), '');
  }
  return dir;
}

describe('bench all: the servers', () => {
  test('the FFI floor runs the shared anchor with this node, in the repository root, where koffi resolves', () => {
    const floor = byName('koffi_epoll_echo');
    assert.equal(floor.kind, 'floor');
    assert.deepEqual(floor.command({ shared: '/kit', bin: '/bin-dir' }), [process.execPath, '/kit/anchors/koffi_epoll_echo.mjs']);
    assert.equal(floor.cwd, REPO_ROOT);
    assert.deepEqual(floor.scenarios, ['lat', 'tput64', 'tput4k', 'idle1k', 'idle10k']);
    // The anchor does createRequire(join(process.cwd(), 'noop.js'))('koffi'): from the root, that is the koffi iomux uses.
    const fromRoot = createRequire(join(floor.cwd, 'noop.js')).resolve('koffi');
    assert.equal(fromRoot, createRequire(join(REPO_ROOT, 'package.json')).resolve('koffi'));
    assert.equal(floor.unavailable?.({ shared: '/kit', bin: '/b' }), process.platform === 'linux' && process.arch === 'x64'
      ? undefined : `it needs Linux x86_64 (this is ${process.platform} ${process.arch})`);
  });

  test('C epoll_echo runs from the build directory, the scripts from the kit; Python selectors is a reference in every scenario', () => {
    assert.deepEqual(byName('epoll_echo').command({ shared: '/kit', bin: '/b' }), ['/b/epoll_echo']);
    assert.deepEqual(byName('node_net_echo').command({ shared: '/kit', bin: '/b' }), [process.execPath, '/kit/anchors/node_net_echo.js']);
    const py = byName('py_selectors_echo');
    assert.deepEqual(py.command({ shared: '/kit', bin: '/b' }), ['python3', '/kit/anchors/py_selectors_echo.py']);
    assert.deepEqual(py.scenarios, ['lat', 'tput64', 'tput4k', 'idle1k', 'idle10k']);
    assert.equal(DEFAULT_TOOLS_BIN, join(REPO_ROOT, 'build', 'shared-bench'));
  });

  test('iomux uring runs the echo server with --backend uring; the C io_uring anchor is built into the build directory', () => {
    const u = byName('iomux_uring');
    assert.equal(u.kind, 'iomux');
    assert.deepEqual(u.command({ shared: '/kit', bin: '/b' }), [process.execPath, join(REPO_ROOT, 'dist', 'cli', 'main.js'), 'echo-server', '--backend', 'uring', '--quiet']);
    assert.equal(u.unavailable?.({ shared: '/kit', bin: '/b' }), undefined, 'this kernel has io_uring');
    const c = byName('uring_echo');
    assert.equal(c.kind, 'anchor');
    assert.deepEqual(c.command({ shared: '/kit', bin: '/b' }), ['/b/anchors/uring_echo']);
    assert.deepEqual(c.scenarios, ['lat', 'tput64', 'tput4k', 'idle1k', 'idle10k']);
  });

  test('without liburing\'s headers the C io_uring anchor is left out with a line saying what to install', () => {
    assert.equal(liburingMissing(), undefined, 'liburing-dev is installed here');
    // A compiler that fails to build the probe, as gcc does on a machine without liburing-dev: `false`, which
    // exits before reading the source it is given (EPIPE for the writer: CI once saw "no C compiler" here).
    assert.equal(liburingMissing('false'), 'liburing\'s headers are missing: install liburing-dev (Debian, Ubuntu) or liburing-devel (Fedora), then run again');
    assert.equal(liburingMissing(join(tmp, 'no-such-cc')), `no C compiler (${join(tmp, 'no-such-cc')}) to build anchors/uring_echo.c`);
    const kit = fakeKit(join(tmp, 'uring-kit'), []);
    const said: string[] = [];
    const chosen = selectServers({ sharedBench: kit, toolsBin: join(tmp, 'bin'), servers: ['uring_echo', 'epoll_echo'] }, (t) => said.push(t));
    assert.deepEqual(chosen.map((s) => s.name), ['epoll_echo']);
    assert.deepEqual(said, [`uring_echo left out: the shared kit has no anchors/uring_echo.c (an older kit? update ${kit})`]);
  });

  test('the real kit builds anchors/uring_echo beside echoload and epoll_echo', () => {
    const bin = join(tmp, 'bin-uring');
    buildSharedBench(defaultSharedBench(), bin, true);
    for (const f of ['echoload', 'epoll_echo', join('anchors', 'uring_echo')]) {
      assert.equal(spawnSync('test', ['-x', join(bin, f)]).status, 0, `${f} built`);
    }
  });

  test('a kit without an anchor script stops the suite with one line naming it; servers not asked for are not checked', () => {
    const kit = fakeKit(join(tmp, 'old-kit'), ['node_net_echo.js']);
    const o = { sharedBench: kit, toolsBin: join(tmp, 'bin') };
    assert.throws(() => selectServers({ ...o, servers: ['iomux_epoll', 'koffi_epoll_echo'] }, () => {}), (err: unknown) => {
      assert.ok(err instanceof SetupError);
      assert.equal(err.message, `the shared benchmark kit has no ${kit}/anchors/koffi_epoll_echo.mjs (an older kit?); ` +
        'update it or leave koffi_epoll_echo out with --servers');
      return true;
    });
    const said: string[] = [];
    const chosen = selectServers({ ...o, servers: ['iomux_epoll', 'node_net_echo', 'epoll_echo'] }, (t) => said.push(t));
    assert.deepEqual(chosen.map((s) => s.name), ['iomux_epoll', 'epoll_echo', 'node_net_echo']);
    assert.deepEqual(said, []);
  });

  test('buildSharedBench names the first missing file of the kit', () => {
    const kit = join(tmp, 'half-kit');
    mkdirSync(kit);
    writeFileSync(join(kit, 'run-echo.sh'), '');
    writeFileSync(join(kit, 'Makefile'), '');
    assert.throws(() => buildSharedBench(kit, join(tmp, 'bin2')),
      { name: 'SetupError', message: `the shared benchmark kit is missing: ${kit} has no echoload.c (pass --shared-bench DIR)` });
  });

  test('a kit whose C programs do not build is reported in one line, not a stack trace', () => {
    const kit = fakeKit(join(tmp, 'broken-kit'), []);
    writeFileSync(join(kit, 'Makefile'), 'echoload epoll_echo:\n\tfalse\n');
    const bin = join(tmp, 'bin3');
    assert.throws(() => buildSharedBench(kit, bin),
      { name: 'SetupError', message: `building echoload and epoll_echo from ${kit} into ${bin} failed (make exit 2)` });
  });
});

describe('bench all: what it records', () => {
  test('the commit measured is the repository HEAD (short hash), nothing outside a git checkout', () => {
    const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (head.status === 0) assert.match(describeCommit()!, new RegExp(`^${head.stdout.trim()}( \\+ local changes)?$`));
    else assert.equal(describeCommit(), undefined);
    assert.equal(describeCommit(tmp), undefined);
  });
});

describe('bench all: the order of the measurements', () => {
  const [iomux, floor, c] = ['iomux_epoll', 'koffi_epoll_echo', 'epoll_echo'].map(byName) as [ServerSpec, ServerSpec, ServerSpec];
  const select = byName('iomux_select');

  test('scenario by scenario, every server of it back to back, the order reversed every other round', () => {
    const cells = schedule([iomux, select, floor, c], ['lat', 'idle1k'], 2);
    assert.deepEqual(cells.map((x) => `${x.round} ${x.scenario} ${x.server.name}`), [
      '1 lat iomux_epoll', '1 lat koffi_epoll_echo', '1 lat epoll_echo',
      '1 idle1k iomux_epoll', '1 idle1k iomux_select', '1 idle1k koffi_epoll_echo', '1 idle1k epoll_echo',
      '2 lat epoll_echo', '2 lat koffi_epoll_echo', '2 lat iomux_epoll',
      '2 idle1k epoll_echo', '2 idle1k koffi_epoll_echo', '2 idle1k iomux_select', '2 idle1k iomux_epoll',
    ]);
  });

  test('scenarios keep the suite order whatever order they were asked in; the estimate counts every measurement', () => {
    assert.deepEqual(schedule([iomux], ['idle10k', 'lat'], 1).map((x) => x.scenario), ['lat', 'idle10k']);
    assert.equal(estimateSeconds(10, { warmup: 2, duration: 5, scaling: false }), 95);
    assert.equal(estimateSeconds(10, { warmup: 2, duration: 5, scaling: true }), 125);
    assert.equal(estimateSeconds(10, { warmup: 2, duration: 5, scaling: false }, 4), 95 + 4 * (2 + 3 + 2.5));
    // The default suite: every server (uring's three included), every scenario, 3 rounds and the counting pass,
    // under 30 minutes by this estimate.
    const all = schedule(SERVERS, ['lat', 'tput64', 'tput4k', 'idle1k', 'idle10k'], 3).length;
    assert.equal(all, 3 * 43);
    const counting = schedule(SERVERS, ['lat', 'tput64', 'tput4k', 'idle1k', 'idle10k'], 1).length;
    assert.ok(estimateSeconds(all + 3 * 4, { warmup: 2, duration: 5, scaling: true }, counting) < 30 * 60);
  });
});

describe('bench all on a machine without python3', () => {
  test('the Python references are left out with a line saying why', () => {
    const kit = fakeKit(join(tmp, 'py-kit'), ['py_selectors_echo.py', 'py_select_echo.py']);
    // PATH without python3: the check runs `python3 --version`.
    const code = `
      const { selectServers } = await import(${JSON.stringify(new URL('../bench/suite.js', import.meta.url).href)});
      const said = [];
      const s = selectServers({ sharedBench: ${JSON.stringify(kit)}, toolsBin: '/b', servers: ['py_selectors_echo', 'py_select_echo'] }, (t) => said.push(t));
      console.log(JSON.stringify({ chosen: s.map((x) => x.name), said }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      chosen: [], said: ['py_selectors_echo left out: python3 is not installed', 'py_select_echo left out: python3 is not installed'],
    });
  });
});
