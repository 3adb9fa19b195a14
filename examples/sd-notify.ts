/**
 * sd_notify(3) without a compiler: a service tells systemd "READY=1" by sending a datagram to the unix
 * socket named in $NOTIFY_SOCKET (a path, or '@name' for the abstract namespace). Node's `dgram` has no
 * AF_UNIX datagrams; iomux sends one with `sendmsg` to an address.
 *
 * Run under systemd with `Type=notify`, or play systemd's side yourself:
 *
 *   socat UNIX-RECV:/tmp/notify.sock - &   NOTIFY_SOCKET=/tmp/notify.sock node build/examples/sd-notify.js
 */
import { AF_UNIX, SOCK_DGRAM, Socket } from 'iomux/socket';

/**
 * Sends `state` (newline-separated VAR=value assignments) to the service manager. Returns false when not
 * run under one ($NOTIFY_SOCKET unset), as sd_notify returns 0.
 */
export function sdNotify(state: string): boolean {
  const target = process.env.NOTIFY_SOCKET;
  if (!target) return false;
  // '@' stands for the abstract namespace's leading NUL byte.
  const address = target.startsWith('@') ? Buffer.from(`\0${target.slice(1)}`) : target;
  using sock = new Socket(AF_UNIX, SOCK_DGRAM);
  sock.sendmsg([Buffer.from(state)], [], 0, address);
  return true;
}

// A "service": start up, report progress, say it is ready.
sdNotify('STATUS=starting up');
await new Promise((resolve) => setTimeout(resolve, 10)); // the real work would go here
const sent = sdNotify(`READY=1\nSTATUS=serving\nMAINPID=${process.pid}`);
console.log(sent ? `pid ${process.pid}: notified the service manager` : 'NOTIFY_SOCKET is not set: not run by a service manager');
