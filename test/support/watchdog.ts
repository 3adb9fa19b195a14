/**
 * The per-file limit of `npm test`, loaded with `--import` into every test process the runner starts (the
 * runner's own process, without NODE_TEST_CONTEXT, is left alone). Each test's own limit is `--test-timeout`;
 * this catches what that cannot:
 * - a file still running after IOMUX_TEST_FILE_LIMIT_S seconds (default 300) — a hang outside any test, or a
 *   handle keeping the process alive after its tests ended — prints its name and exits 1;
 * - a file blocked in a system call (a blocking recv: no JavaScript runs, so no timer and no test timeout can
 *   fire) is ended 30 s later by SIGALRM from alarm(2), whose default action terminates it; the runner then
 *   reports the file as failed by that signal. alarm is not inherited by the children the tests fork.
 */
import { basename } from 'node:path';
import koffi from 'koffi';

if (process.env.NODE_TEST_CONTEXT !== undefined) {
  const seconds = Number(process.env.IOMUX_TEST_FILE_LIMIT_S ?? 300);
  const file = basename(process.argv[1] ?? '(unknown test file)');
  setTimeout(() => {
    process.stderr.write(`watchdog: ${file} still running after ${seconds} s: stopped\n`);
    process.exit(1);
  }, seconds * 1000).unref();
  const alarm = koffi.load(null).func('unsigned int alarm(unsigned int seconds)') as (s: number) => number;
  alarm(seconds + 30);
}
