// An echo server written with the awaitable socket operations (asyncio's loop.sock_*): each connection is an
// async function that awaits `sockRecv` and `sockSendall`; Node's event loop waits, no thread blocks.
//
//   node node_modules/iomux/examples/echo-await.js           a demo: three clients, then exit
//   node node_modules/iomux/examples/echo-await.js --serve   serve on 127.0.0.1:10001 until Ctrl-C
import { connect } from 'node:net';
import { sockAccept, sockRecv, sockSendall } from 'iomux/loop';
import { createServer } from 'iomux/socket';

const serve = process.argv.includes('--serve');
const listener = createServer(['127.0.0.1', serve ? 10001 : 0]);
listener.setblocking(false); // the sock* operations need non-blocking sockets
const port = listener.getsockname()[1];
console.log(`echo on 127.0.0.1:${port}`);

async function echo(conn) {
  for (;;) {
    const data = await sockRecv(conn, 4096);
    if (data.length === 0) break; // end of stream
    await sockSendall(conn, data);
  }
  conn.close();
}

async function acceptLoop(count) {
  for (let i = 0; i < count; i++) {
    const [conn, addr] = await sockAccept(listener); // non-blocking, as asyncio makes it
    console.log('connection from', addr);
    void echo(conn).catch((err) => console.error('connection failed:', err.message));
  }
}

if (serve) {
  await acceptLoop(Infinity);
} else {
  const accepting = acceptLoop(3);
  const replies = await Promise.all(['one', 'two', 'three'].map(async (word) => {
    const client = connect(port, '127.0.0.1');
    client.end(word);
    let reply = '';
    for await (const chunk of client) reply += chunk;
    return reply;
  }));
  await accepting;
  console.log('echoed back:', replies.join(' '));
  listener.close();
}
