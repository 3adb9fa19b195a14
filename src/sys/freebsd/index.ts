/** FreeBSD: its table (abi.ts) and its natives (natives.ts), the one entry src/sys/platform.ts chooses from. */
import type { Platform } from '../abi.js';
import { freebsdAbi } from './abi.js';
import { bindNatives } from './natives.js';

export const freebsd: Platform = { abi: freebsdAbi, natives: bindNatives };
