/**
 * A network link monitor over rtnetlink: an AF_NETLINK socket subscribed to RTMGRP_LINK gets a message from
 * the kernel whenever an interface appears, goes up or down, or disappears. No privileges are needed to
 * listen. The socket is read with the awaitable `sockRecv`, so the rest of a Node program keeps running.
 *
 *   npm run build && npm run build:dev && node build/examples/netlink-monitor.js [events-to-print]
 *   (then, as root:  ip link add iomuxtest0 type dummy; ip link set iomuxtest0 up; ip link del iomuxtest0)
 */
import { sockRecv } from 'iomux/loop';
import { AF_NETLINK, NETLINK_ROUTE, SOCK_NONBLOCK, SOCK_RAW, Socket } from 'iomux/socket';

// <linux/rtnetlink.h> and <linux/if.h>
const RTMGRP_LINK = 1;
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const IFLA_IFNAME = 3;
const IFF_UP = 0x1;
const NLMSG_HDR = 16;
const IFINFOMSG = 16;

interface LinkEvent {
  index: number;
  name: string;
  state: 'up' | 'down' | 'removed';
}

/** The link events in one netlink datagram (several messages may share it). */
function parse(datagram: Buffer): LinkEvent[] {
  const events: LinkEvent[] = [];
  for (let at = 0; at + NLMSG_HDR <= datagram.length;) {
    const len = datagram.readUInt32LE(at);
    const type = datagram.readUInt16LE(at + 4);
    if (len < NLMSG_HDR || at + len > datagram.length) break;
    if ((type === RTM_NEWLINK || type === RTM_DELLINK) && len >= NLMSG_HDR + IFINFOMSG) {
      const info = at + NLMSG_HDR;
      const index = datagram.readInt32LE(info + 4);
      const flags = datagram.readUInt32LE(info + 8);
      let name = `#${index}`;
      for (let a = info + IFINFOMSG; a + 4 <= at + len;) {
        const alen = datagram.readUInt16LE(a);
        if (alen < 4) break;
        if (datagram.readUInt16LE(a + 2) === IFLA_IFNAME) name = datagram.toString('utf8', a + 4, a + alen).replace(/\0.*$/s, '');
        a += (alen + 3) & ~3;
      }
      const state = type === RTM_DELLINK ? 'removed' : flags & IFF_UP ? 'up' : 'down';
      events.push({ index, name, state });
    }
    at += (len + 3) & ~3;
  }
  return events;
}

const limit = Number(process.argv[2] ?? Infinity);
const nl = new Socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_ROUTE);
nl.bind([0, RTMGRP_LINK]);
console.log(`listening for link changes (netlink pid ${(nl.getsockname() as [number, number])[0]})`);
const last = new Map<number, string>();
let printed = 0;
while (printed < limit) {
  for (const { index, name, state } of parse(await sockRecv(nl, 65536))) {
    if (last.get(index) === state) continue; // the kernel repeats NEWLINK for other attribute changes
    last.set(index, state);
    console.log(`link ${name} (index ${index}): ${state}`);
    printed++;
  }
}
nl.close();
