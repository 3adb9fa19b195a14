/**
 * koffi has 8,192 callback slots for the whole process, and gives one back only when it is unregistered:
 * a worker thread that ends with its poll callback registered loses it (issue 9 item 5). Workers that end
 * by process.exit() — from inside a watch callback too — or naturally give their slot back.
 * (worker.terminate() still loses one slot per worker holding a watch; see docs/loop.md.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distUrl, runModule } from './support/children.js';

const LIFECYCLES = 240;

test(`${LIFECYCLES} worker lifecycles (exit from a callback, natural end; watch and attach) lose no koffi callback slot`, async () => {
  const result = await runModule(`
    import { Worker } from 'node:worker_threads';
    import { loopStats } from ${JSON.stringify(distUrl('loop/index.js'))};
    const body = (ending, use) => 'data:text/javascript,' + encodeURIComponent(\`
      import { parentPort } from 'node:worker_threads';
      import { watch, EVENT_READ } from ${JSON.stringify(distUrl('loop/index.js'))};
      import { DefaultSelector } from ${JSON.stringify(distUrl('selectors/index.js'))};
      import * as os from ${JSON.stringify(distUrl('os.js'))};
      const [r, w] = os.pipe();
      os.write(w, 'always readable');
      let calls = 0;
      const onReady = () => {
        if (++calls !== 3) return;
        if ('\${ending}' === 'exit') process.exit(7);
        if ('\${use}' === 'watch') watcher.unref(); else sel.unref();
      };
      let watcher, sel;
      if ('\${use}' === 'watch') watcher = watch(r, EVENT_READ, onReady);
      else { sel = new DefaultSelector(); sel.register(r, EVENT_READ); sel.attach(onReady); }
    \`);
    const before = loopStats().registeredCallbacks;
    const kinds = [['exit', 'watch'], ['natural', 'watch'], ['exit', 'attach'], ['natural', 'attach']];
    const codes = {};
    const BATCH = 8;
    for (let i = 0; i < ${LIFECYCLES}; i += BATCH) {
      await Promise.all(Array.from({ length: BATCH }, (_, j) => new Promise((resolve, reject) => {
        const [ending, use] = kinds[(i + j) % kinds.length];
        const worker = new Worker(new URL(body(ending, use)));
        worker.on('error', reject);
        worker.on('exit', (code) => {
          const key = ending + '/' + use + '/' + code;
          codes[key] = (codes[key] ?? 0) + 1;
          resolve();
        });
      })));
    }
    console.log(JSON.stringify({ leaked: loopStats().registeredCallbacks - before, codes }));
  `, 120_000);
  assert.equal(result.signal, null, `the process died: ${result.stderr.slice(0, 2000)}`);
  assert.equal(result.code, 0, result.stderr.slice(0, 2000));
  const { leaked, codes } = JSON.parse(result.stdout) as { leaked: number; codes: Record<string, number> };
  const each = LIFECYCLES / 4;
  assert.deepEqual(codes, { 'exit/watch/7': each, 'natural/watch/0': each, 'exit/attach/7': each, 'natural/attach/0': each });
  assert.equal(leaked, 0);
});
