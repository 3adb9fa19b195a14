/**
 * PEP 475 through the selectors, after CPython's test_select_interrupt_noraise: a signal arriving while
 * `select(1.5)` waits must not end the wait early. A child process sends the signal (a synchronous wait
 * blocks every JS timer in this process), and a `process.on` listener makes it non-fatal. Which thread
 * the kernel interrupts is its choice, so EINTR itself is not asserted: the contract is the result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  BaseSelector, DefaultSelector, EVENT_READ, EpollSelector, KqueueSelector, PollSelector, SelectSelector,
} from 'iomux/selectors';
import { catchSignals } from './support/children.js';
import { Fds } from './support/fds.js';
import './support/kqueue.js';
import { timed } from './support/timing.js';

const CLASSES: Array<[string, new () => BaseSelector]> = [
  ['SelectSelector', SelectSelector],
  ['PollSelector', PollSelector],
  ['EpollSelector', EpollSelector],
  ['KqueueSelector', KqueueSelector],
  ['DefaultSelector', DefaultSelector],
];

for (const [name, Cls] of CLASSES) {
  test(`${name}: select(1.5) keeps waiting through a signal`, async (t) => {
    const alarms = catchSignals('SIGALRM', t);
    const fds = new Fds(t);
    const [r] = fds.pipe();
    const sel = fds.own(new Cls());
    sel.register(r, EVENT_READ);

    const child = spawn('sh', ['-c', `sleep 0.5; kill -ALRM ${process.pid}`], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    const [result, elapsed] = timed(() => sel.select(1.5));
    // Keep the listener until the signal was surely sent: without it SIGALRM would end the process.
    const [code] = await exited;
    await alarms.arrived();

    assert.equal(code, 0, 'the child sent the signal');
    assert.deepEqual(result, []);
    assert.ok(elapsed >= 1.0 && elapsed < 5, `select(1.5) returned after ${elapsed} s`);
    assert.equal(alarms.count, 1, 'the signal reached this process');
  });
}
