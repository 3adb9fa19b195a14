/**
 * Run by uring.test.ts with --trace-gc: a hot loop of one kind (`nop`: nop → wait → userData/result/flags;
 * `pipe`: write → read with a provided buffer → wait → bufferId → recycle; `echo`: a socket pair with a
 * multishot recv on each end, one end echoing with sendBuffer, the other sending copies), warmed up, then ROUNDS rounds
 * between the lines MARK and END. Every scavenge printed between them is young-generation garbage the loop made.
 */
import * as os from 'iomux/os';
import { socketpair } from 'iomux/socket';
import { IoUring } from 'iomux/uring';

const mode = process.argv[2];
const ROUNDS = Number(process.argv[3] ?? 200_000);
const [r, w] = os.pipe();
const ring = new IoUring(64);
ring.provideBuffers(0, 16, 256);
const msg = Buffer.from('ping');
const READ = { bufferGroup: 0 };
let sink = 0;
const [sa, sb] = socketpair();
const RECV_A = { bufferGroup: 0, multishot: true };
const RECV_B = { bufferGroup: 1, multishot: true };
if (mode === 'echo') {
  ring.provideBuffers(1, 16, 256);
  ring.recv(sa, 10, RECV_A);
  ring.recv(sb, 20, RECV_B);
}

/** One echo: b sends a copy, a's recv completes, a sends the buffer back, b's recv completes. */
function echo(): void {
  ring.send(sb, msg, 30);
  for (let got = 0; got < 4;) {
    const n = ring.wait(1, null);
    for (let i = 0; i < n; i++, got++) {
      const ud = ring.userData(i);
      const res = ring.result(i);
      if (ud === 10) {
        ring.sendBuffer(sa, 0, ring.bufferId(i), 0, res, 100 + ring.bufferId(i));
        if (!ring.hasMore(i)) ring.recv(sa, 10, RECV_A);
      } else if (ud === 20) {
        ring.recycle(1, ring.bufferId(i));
        if (!ring.hasMore(i)) ring.recv(sb, 20, RECV_B);
      } else if (ud >= 100) {
        ring.recycle(0, ud - 100);
      }
    }
  }
}

function round(): void {
  if (mode === 'echo') return echo();
  if (mode === 'pipe') {
    ring.write(w, msg, 1);
    ring.read(r, 2, READ);
  } else {
    ring.nop(1);
    ring.nop(2);
  }
  for (let got = 0; got < 2;) {
    const n = ring.wait(1, null);
    for (let i = 0; i < n; i++, got++) {
      sink = (sink + ring.userData(i) + ring.result(i) + ring.flags(i)) | 0; // a small integer: the loop itself allocates nothing
      const id = ring.bufferId(i);
      if (id >= 0) ring.recycle(0, id);
    }
  }
}

for (let i = 0; i < 30_000; i++) round();
(globalThis as { gc?: () => void }).gc?.();
console.log('MARK');
for (let i = 0; i < ROUNDS; i++) round();
console.log('END');
ring.close();
sa.close();
sb.close();
os.close(r);
os.close(w);
if (sink === 0) console.log('(sink)');
