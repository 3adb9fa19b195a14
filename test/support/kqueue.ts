/**
 * kqueue on Linux comes from libkqueue, which `npm test`'s pretest builds into .cache/libkqueue
 * (.ci/libkqueue.sh). Importing this module points iomux at that build (IOMUX_LIBKQUEUE, unless already set),
 * for this process and the children it starts; `requireKqueue()` fails a test loudly, with the reason the
 * build gave, where kqueue is still unavailable: these tests are never skipped.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hasKqueue } from 'iomux/select';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const built = `${root}.cache/libkqueue/lib/libkqueue.so.0`;
const reasonFile = `${root}.cache/libkqueue.reason`;

if (!process.env.IOMUX_LIBKQUEUE && existsSync(built)) process.env.IOMUX_LIBKQUEUE = built;

/** Asserts that kqueue() works here, explaining why not (the pretest's build failure) when it does not. */
export function requireKqueue(): void {
  if (hasKqueue()) return;
  const reason = existsSync(reasonFile) ? readFileSync(reasonFile, 'utf8').trim() : `no ${built}: run npm test (its pretest builds it)`;
  assert.fail(`kqueue is unavailable, so the kqueue tests cannot run: ${reason}`);
}
