/**
 * kqueue on Linux comes from libkqueue, which `npm test`'s pretest builds into .cache/libkqueue
 * (.ci/libkqueue.sh). Importing this module points iomux at that build (IOMUX_LIBKQUEUE, unless already set),
 * for this process and the children it starts; `requireKqueue()` fails a test loudly, with the reason the
 * build gave, where kqueue is still unavailable: these tests are never skipped.
 *
 * libkqueue starts a monitoring thread, with fds of its own that stay open, on the first kqueue of the
 * process, and that thread releases a closed kqueue's internal pipe end a moment after close(). Importing
 * this module creates and closes one kqueue and waits until it is fully released, so a file's fd-leak
 * accounting (expectNoFdLeaks) starts after that one-time setup.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hasKqueue, kqueue } from 'iomux/select';
import { until } from './timing.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const built = `${root}.cache/libkqueue/lib/libkqueue.so.0`;
const reasonFile = `${root}.cache/libkqueue.reason`;

if (!process.env.IOMUX_LIBKQUEUE && existsSync(built)) process.env.IOMUX_LIBKQUEUE = built;

function fdLinks(): string[] {
  return readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  });
}

if (process.platform === 'linux' && hasKqueue()) {
  const kq = kqueue();
  const pipe = readlinkSync(`/proc/self/fd/${kq.fileno()}`); // libkqueue's kqueue fd: one end of a pipe
  kq.close();
  await until(() => !fdLinks().includes(pipe), "libkqueue's release of its first kqueue");
}

/** Asserts that kqueue() works here, explaining why not (the pretest's build failure) when it does not. */
export function requireKqueue(): void {
  if (hasKqueue()) return;
  const reason = existsSync(reasonFile) ? readFileSync(reasonFile, 'utf8').trim() : `no ${built}: run npm test (its pretest builds it)`;
  assert.fail(`kqueue is unavailable, so the kqueue tests cannot run: ${reason}`);
}
