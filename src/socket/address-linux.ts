/**
 * The address forms of AF_NETLINK (`[pid, groups]`) and AF_PACKET (`[ifname, proto, pkttype?, hatype?,
 * addr?]`), as CPython's getsockaddrarg/makesockaddr write them. Linux only; address.ts hands these
 * families over to this file.
 */
import { OSError, OverflowError, ValueError } from '../errors.js';
import { describe } from '../fileobj.js';
import { ERRNO } from '../sys/index.js';
import * as net from '../sys/netinfo.js';
import { isUint8Array } from '../sys/views.js';
import { intArg } from '../args.js';

const ENODEV = ERRNO.ENODEV!;

/** `[pid, groups]`: an AF_NETLINK address (pid 0 is the kernel, or "assign me one" in bind). */
export type NetlinkAddress = [pid: number, groups: number];
/** `[ifname, proto, pkttype, hatype, addr]`: an AF_PACKET address as returned; pass 2 to 5 items. */
export type PacketAddress = [ifname: string, proto: number, pkttype: number, hatype: number, addr: Buffer];

/** True for the families this file encodes and decodes. */
export function isLinuxFamily(family: number): boolean {
  return family === net.AF_NETLINK || family === net.AF_PACKET;
}

/** Writes `address` for AF_NETLINK or AF_PACKET into `buf` and returns its length. */
export function encodeLinuxAddress(buf: Uint8Array, family: number, address: unknown, caller: string): number {
  return family === net.AF_NETLINK ? encodeNetlink(buf, family, address, caller) : encodePacket(buf, family, address, caller);
}

function u32(value: unknown, name: string, caller: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${caller}(): ${name} must be an integer, not ${describe(value)}`);
  }
  if (value < 0 || value > 0xffffffff) throw new OverflowError(`${caller}(): ${name} must be 0-4294967295.`);
  return value;
}

function encodeNetlink(buf: Uint8Array, family: number, address: unknown, caller: string): number {
  if (!Array.isArray(address)) throw new TypeError(`${caller}(): AF_NETLINK address must be an array [pid, groups], not ${describe(address)}`);
  if (address.length !== 2) throw new TypeError('AF_NETLINK address must be a pair (pid, groups)');
  return net.writeSockaddrNl(buf, family, u32(address[0], 'pid', caller), u32(address[1], 'groups', caller));
}

function encodePacket(buf: Uint8Array, family: number, address: unknown, caller: string): number {
  if (!Array.isArray(address)) throw new TypeError(`${caller}(): AF_PACKET address must be an array, not ${describe(address)}`);
  if (address.length < 2 || address.length > 5 || typeof address[0] !== 'string') {
    throw new TypeError('AF_PACKET address must be a tuple of two to five elements');
  }
  const ifname = address[0];
  const proto = intArg(address[1], 'proto');
  if (proto < 0 || proto > 0xffff) throw new OverflowError(`${caller}(): proto must be 0-65535.`);
  // As CPython: pkttype and hatype are C ints stored into an unsigned char and an unsigned short.
  const pkttype = address.length > 2 ? intArg(address[2], 'pkttype') & 0xff : 0;
  const hatype = address.length > 3 ? intArg(address[3], 'hatype') & 0xffff : 0;
  let haddr: Uint8Array = new Uint8Array(0);
  if (address.length > 4) {
    const a: unknown = address[4];
    if (!isUint8Array(a)) throw new TypeError(`a bytes-like object is required, not ${describe(a)}`);
    // An owned copy, by the view's internal slots: its own members (length, subarray) never run while the
    // shared sockaddr is written.
    haddr = new Uint8Array(a);
    if (haddr.length > net.SLL_ADDR_BYTES) throw new ValueError('Hardware address must be 8 bytes or less');
  }
  const index = ifname.includes('\0') || ifname.length >= net.IF_NAMESIZE ? 0 : net.ifNametoindex(ifname);
  if (index === 0) throw OSError.fromErrno(ENODEV);
  return net.writeSockaddrLl(buf, family, index, proto, pkttype, hatype, haddr);
}

/** The address in `buf` (AF_NETLINK or AF_PACKET) as CPython's makesockaddr returns it. */
export function decodeLinuxAddress(buf: Uint8Array, family: number): NetlinkAddress | PacketAddress {
  if (family === net.AF_NETLINK) return net.readSockaddrNl(buf);
  const ll = net.readSockaddrLl(buf);
  const name = net.ifIndextoname(ll.ifindex);
  return [typeof name === 'string' ? name : '', ll.protocol, ll.pkttype, ll.hatype, ll.addr];
}
