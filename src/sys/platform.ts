/**
 * Chooses the platform once, at load, from process.platform and process.arch, in the one table of platform
 * folders. This is the only file in iomux that reads them; every other one asks `abi` (values and layouts) or
 * lib.ts's `natives` (the per-platform calls, bound from `platform.natives`). An unsupported platform fails
 * here, at import, with one error that names it.
 */
import type { ArchName, Platform, PlatformAbi, PlatformName } from './abi.js';
import { darwin } from './darwin/index.js';
import { freebsd } from './freebsd/index.js';
import { linux } from './linux/index.js';

/** The platform folders: adding a platform is one folder and one entry here. */
const TABLE: Readonly<Record<PlatformName, Platform>> = { linux, darwin, freebsd };

/** The architectures every platform is built for: 64-bit little-endian. */
const ARCHES: readonly ArchName[] = ['x64', 'arm64'];

/** Every platform and architecture with a table, for the table tests. */
export const PLATFORMS: ReadonlyArray<readonly [PlatformName, ArchName]> =
  (Object.keys(TABLE) as PlatformName[]).flatMap((name) => ARCHES.map((arch) => [name, arch] as const));

/** The table of a platform/architecture pair, or null when iomux has none. */
export function abiFor(platform: string, arch: string): PlatformAbi | null {
  if (!Object.hasOwn(TABLE, platform) || !ARCHES.includes(arch as ArchName)) return null;
  return TABLE[platform as PlatformName].abi(arch as ArchName);
}

function current(): PlatformAbi {
  const abi = abiFor(process.platform, process.arch);
  if (abi === null) {
    throw new Error(
      `iomux does not support ${process.platform}/${process.arch}: it runs on Linux, macOS and FreeBSD ` +
      '(x64 and arm64). Windows has no fd-based select/poll/kqueue for arbitrary files; see docs/architecture.md.',
    );
  }
  // Every struct codec (bytes.ts) writes little-endian fields: true of x64 and arm64 as Node builds them, and
  // checked here so that a big-endian build of either could never run with wrong fields.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error(`iomux does not support big-endian ${process.platform}/${process.arch}: every struct field it writes is little-endian`);
  }
  return abi;
}

/** The running platform's table. */
export const abi: PlatformAbi = current();
/** The running platform's folder (lib.ts binds its natives once the C library is loaded). */
export const platform: Platform = TABLE[abi.platform];
