/** The runnable examples of docs/loop.md still run: each is started as its own process and its output checked. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SHIPPED_EXAMPLES, runExample } from './support/children.js';

test('loop-watch-pipe: lines arrive while the timer keeps ticking, and the process ends by itself', async () => {
  const out = await runExample('loop-watch-pipe', ['3']);
  const lines = out.split('\n');
  const reads = lines.filter((l) => l.includes('read: line'));
  assert.equal(reads.length, 3);
  const firstRead = lines.findIndex((l) => l.includes('read: line 1'));
  const lastRead = lines.findIndex((l) => l.includes('read: line 3'));
  assert.ok(lines.slice(firstRead, lastRead).some((l) => l.includes('tick')), 'no timer tick between the lines');
  assert.match(out, /end of file after \d+ timer ticks/);
});

test('unix-datagram-http (shipped): every datagram acknowledged, the HTTP server reports them', async () => {
  const out = await runExample('unix-datagram-http', [], SHIPPED_EXAMPLES);
  assert.match(out, /acks: ack 1, ack 2, ack 3, ack 4/);
  assert.match(out, /GET \/ → \{"count":4,"received":\["hello","from","a unix datagram","client"\]\}/);
});

test('loop-worker-echo: the worker echoes for every client and exits cleanly', async () => {
  const out = await runExample('loop-worker-echo', ['2']);
  assert.match(out, /client 0 got back: "hello" "from" "client 0"/);
  assert.match(out, /client 1 got back: "hello" "from" "client 1"/);
  assert.match(out, /worker exited with code 0/);
});

test('loop-wakeup-cost: runs every variant', async () => {
  const out = await runExample('loop-wakeup-cost', ['2000']);
  for (const variant of ['blocking EpollSelector', 'attached EpollSelector', 'watch()', 'selectAsync', 'attached PollSelector', 'attached SelectSelector']) {
    assert.ok(out.includes(variant), `missing ${variant}`);
  }
  assert.match(out, /µs\/wake-up/);
});
