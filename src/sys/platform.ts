/**
 * Chooses the platform once, at load, from process.platform and process.arch. This is the only file in iomux
 * that reads them; every other one asks `abi` (values and layouts) or `natives` (the per-platform calls).
 * An unsupported platform fails here, at import, with one error that names it.
 */
import type { ArchName, PlatformAbi, PlatformName } from './abi.js';
import { darwinAbi } from './darwin/abi.js';
import { freebsdAbi } from './freebsd/abi.js';
import { linuxAbi } from './linux/abi.js';

/** Every platform and architecture with a table, for the table tests. */
export const PLATFORMS: ReadonlyArray<readonly [PlatformName, ArchName]> = [
  ['linux', 'x64'], ['linux', 'arm64'], ['darwin', 'x64'], ['darwin', 'arm64'], ['freebsd', 'x64'], ['freebsd', 'arm64'],
];

/** The table of a platform/architecture pair, or null when iomux has none. */
export function abiFor(platform: string, arch: string): PlatformAbi | null {
  if (arch !== 'x64' && arch !== 'arm64') return null;
  switch (platform) {
    case 'linux': return linuxAbi(arch);
    case 'darwin': return darwinAbi(arch);
    case 'freebsd': return freebsdAbi(arch);
    default: return null;
  }
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
