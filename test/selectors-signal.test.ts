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
  BaseSelector, DefaultSelector, EVENT_READ, EpollSelector, PollSelector, SelectSelector,
} from 'iomux/selectors';
import * as os from 'iomux/os';

const CLASSES: Array<[string, new () => BaseSelector]> = [
  ['SelectSelector', SelectSelector],
  ['PollSelector', PollSelector],
  ['EpollSelector', EpollSelector],
  ['DefaultSelector', DefaultSelector],
];

for (const [name, Cls] of CLASSES) {
  test(`${name}: select(1.5) keeps waiting through a signal`, async (t) => {
    let signals = 0;
    const onSignal = (): void => {
      signals++;
    };
    process.on('SIGALRM', onSignal);
    t.after(() => process.off('SIGALRM', onSignal));

    const [r, w] = os.pipe();
    const sel = new Cls();
    t.after(() => {
      sel.close();
      os.close(r);
      os.close(w);
    });
    sel.register(r, EVENT_READ);

    const child = spawn('sh', ['-c', `sleep 0.5; kill -ALRM ${process.pid}`], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    const t0 = performance.now();
    const result = sel.select(1.5);
    const elapsed = (performance.now() - t0) / 1000;
    // Keep the listener until the signal was surely sent: without it SIGALRM would end the process.
    const [code] = await exited;
    for (let i = 0; i < 100 && signals === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));

    assert.equal(code, 0, 'the child sent the signal');
    assert.deepEqual(result, []);
    assert.ok(elapsed >= 1.0 && elapsed < 5, `select(1.5) returned after ${elapsed} s`);
    assert.equal(signals, 1, 'the signal reached this process');
  });
}
