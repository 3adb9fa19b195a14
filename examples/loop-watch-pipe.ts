/**
 * Watching a pipe while timers keep firing: a child process writes a line every 300 ms into a pipe; `watch()`
 * reads each line the moment it arrives, and a 100 ms timer keeps ticking in between, because nothing ever
 * blocks the thread. At end of file the watcher is closed, then the fd, and the process exits on its own.
 *
 *   npm run build && npm run build:dev && node build/examples/loop-watch-pipe.js [LINES]   (default 5)
 */
import { spawn } from 'node:child_process';
import { EVENT_READ, watch } from 'iomux/loop';
import { BlockingIOError } from 'iomux/errors';
import * as os from 'iomux/os';

const lines = Number(process.argv[2] ?? 5);
const start = Date.now();
const stamp = (): string => `${String(Date.now() - start).padStart(5)} ms`;

const [readEnd, writeEnd] = os.pipe();
// The child writes into our pipe; the parent keeps only the read end.
const child = spawn('sh', ['-c', `for i in $(seq 1 ${lines}); do echo "line $i from pid $$"; sleep 0.3; done`], {
  stdio: ['ignore', writeEnd, 'inherit'],
});
os.close(writeEnd);
os.setBlocking(readEnd, false); // read what is there and stop at EAGAIN, never wait inside a callback

let ticks = 0;
const timer = setInterval(() => {
  ticks++;
  console.log(`${stamp()}  tick ${ticks}`);
}, 100);

let pending = '';
const watcher = watch(readEnd, EVENT_READ, (events, error) => {
  if (error) console.error(`${stamp()}  poll error: ${error.message}`);
  // The fd is non-blocking: read what is there, stop at EAGAIN.
  for (;;) {
    let chunk: Buffer;
    try {
      chunk = os.read(readEnd, 4096);
    } catch (err) {
      if (err instanceof BlockingIOError) return;
      throw err;
    }
    if (chunk.length === 0) {
      // End of file: release the watch before the fd (libuv borrows the fd while watching it).
      watcher.close();
      os.close(readEnd);
      clearInterval(timer);
      console.log(`${stamp()}  end of file after ${ticks} timer ticks (events ${events})`);
      return;
    }
    pending += chunk.toString();
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      console.log(`${stamp()}  read: ${pending.slice(0, newline)}`);
      pending = pending.slice(newline + 1);
    }
  }
});

child.on('exit', (code) => console.log(`${stamp()}  writer exited with ${code}`));
